import JobdRESP

/// Which page or endpoint a request is for. Health checks, metrics and the
/// dashboard page are open (the page holds no data); everything under /api
/// needs the `requirepass` password as a bearer token when one is set.
extension Server {
    func respond(to request: HTTPRequest) -> HTTPResponse {
        let rawSegments = request.path.split(separator: "/", omittingEmptySubsequences: true)
        let decoded = rawSegments.map { HTTPRequestParser.percentDecoded($0) }
        guard !decoded.contains(where: { $0 == nil }) else { return .error(400, "bad percent-encoding in the path") }
        let path = decoded.map { $0! }
        let isRead = request.method == "GET" || request.method == "HEAD"

        switch path.first {
        case nil:
            guard isRead else { return methodNotAllowed("GET, HEAD") }
            return HTTPResponse(status: 200, contentType: "text/html; charset=utf-8", body: DashboardPage.bytes,
                                extraHeaders: [("Content-Security-Policy", DashboardPage.contentSecurityPolicy)])
        case "healthz", "readyz":
            guard isRead, path.count == 1 else { return path.count == 1 ? methodNotAllowed("GET, HEAD") : .error(404, "not found") }
            return health(ready: path[0] == "readyz")
        case "metrics":
            guard path.count == 1 else { return .error(404, "not found") }
            guard isRead else { return methodNotAllowed("GET, HEAD") }
            return HTTPResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8",
                                body: Array(prometheusMetrics().utf8))
        case "api":
            guard isAuthorized(request) else {
                return HTTPResponse.error(401, "authentication required")
                    .adding(header: "WWW-Authenticate", "Bearer realm=\"jobd\"")
            }
            if loading { return .error(503, "loading the data set") }
            return api(request, Array(path.dropFirst()))
        default:
            return .error(404, "not found")
        }
    }

    func methodNotAllowed(_ allowed: String) -> HTTPResponse {
        HTTPResponse.error(405, "method not allowed").adding(header: "Allow", allowed)
    }

    /// 200 while serving; 503 while loading the log or shutting down. Ready
    /// also needs the log to be writable (writes would fail with MISCONF).
    private func health(ready: Bool) -> HTTPResponse {
        if loading { return .text(503, "loading\n") }
        if shutdownRequested { return .text(503, "shutting down\n") }
        if ready, let aof, aof.isFailing { return .text(503, "append-only log not writable\n") }
        return .text(200, "ok\n")
    }

    private func isAuthorized(_ request: HTTPRequest) -> Bool {
        guard !config.requirePass.isEmpty else { return true }
        guard let header = request.header("authorization"), header.lowercased().hasPrefix("bearer ") else { return false }
        let token = Array(header.dropFirst(7).utf8)
        let ok = token.withUnsafeBytes { ConnectionCommands.constantTimeEqual(Array(config.requirePass.utf8), $0) }
        if !ok { stats.authFailures += 1 }
        return ok
    }
}

extension HTTPResponse {
    func adding(header name: String, _ value: String) -> HTTPResponse {
        var copy = self
        copy.extraHeaders.append((name, value))
        return copy
    }
}

extension DashboardPage {
    static let bytes = Array(html.utf8)
    /// Inline script and style only, data from this origin only, and never
    /// inside a frame (the page has buttons that purge queues).
    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
}
