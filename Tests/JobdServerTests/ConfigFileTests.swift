import Testing
import JobdSystem
@testable import JobdServer

/// config/jobd.conf is the documentation of every directive: it must name
/// each one with its default, and its active lines must parse.
@Suite struct ConfigFileTests {
    static let path: String = {
        // Tests run from the package root.
        "config/jobd.conf"
    }()

    static func text() throws -> String {
        try #require(FileDescriptor.readTextFile(path))
    }

    @Test func everyDirectiveIsDocumented() throws {
        // The values are checked by the next test, which loads them back.
        let text = try Self.text()
        for directive in ConfigDirectives.all {
            #expect(text.contains("\n# \(directive.name) "), "config/jobd.conf should document '\(directive.name)'")
        }
    }

    @Test func theDocumentedDefaultsParseBackToTheDefaults() throws {
        // Uncomment every "# directive value" line and load it: the result must equal the defaults.
        let text = try Self.text()
        let lines = text.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("# ") else { return nil }
            let body = String(line.dropFirst(2))
            // Lines of repeatable directives (worker) are examples, not defaults.
            guard let name = body.split(separator: " ").first, let directive = ConfigDirectives.find(String(name)),
                  !directive.repeatable,
                  body.split(separator: " ").count >= 2 else { return nil }
            return body
        }
        #expect(lines.count >= ConfigDirectives.all.filter { !$0.repeatable }.count)
        let config = ServerConfig()
        try ConfigLoader.apply(lines.joined(separator: "\n"), source: "test", to: config)
        let defaults = ServerConfig()
        for directive in ConfigDirectives.all {
            #expect(directive.get(config) == directive.get(defaults), "\(directive.name)")
        }
    }
}
