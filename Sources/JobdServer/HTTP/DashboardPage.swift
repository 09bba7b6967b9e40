/// Placeholder: the dashboard page arrives from the dashboard branch.
enum DashboardPage {
    static let html = "<!doctype html><title>jobd</title><p>jobd dashboard"
    static let bytes = Array(html.utf8)
    static let contentSecurityPolicy = "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"
}
