import Testing
@testable import JobdServer

@Suite struct ConfigLoaderTests {
    private func load(_ text: String) throws(ConfigLoader.LoadError) -> ServerConfig {
        let config = ServerConfig()
        try ConfigLoader.apply(text, source: "test", to: config)
        return config
    }

    @Test func directivesCommentsAndQuotes() throws {
        let config = try load("""
        # a comment
        port 6390

          bind 127.0.0.1 ::1 10.0.0.1
        requirepass "two words"
        loglevel WARNING
        client-output-buffer-limit normal 1mb 512kb 10 pubsub 0 0 0
        """)
        #expect(config.port == 6390)
        #expect(config.bind == ["127.0.0.1", "::1", "10.0.0.1"])
        #expect(config.requirePass == "two words")
        #expect(config.logLevel == .warning)
        #expect(config.outputLimits[.normal] == OutputBufferLimit(hardBytes: 1 << 20, softBytes: 512 * 1024, softSeconds: 10))
        #expect(config.outputLimits[.pubsub] == OutputBufferLimit(hardBytes: 0, softBytes: 0, softSeconds: 0))
    }

    @Test func memoryUnitsAreRedisUnits() {
        #expect(ConfigValues.memory("1gb") == 1_073_741_824)
        #expect(ConfigValues.memory("1g") == 1_000_000_000)
        #expect(ConfigValues.memory("10MB") == 10_485_760)
        #expect(ConfigValues.memory("512k") == 512_000)
        #expect(ConfigValues.memory("100") == 100)
        #expect(ConfigValues.memory("1zb") == nil)
        #expect(ConfigValues.memory("-1") == nil)
    }

    @Test(arguments: [
        ("port abc", "argument couldn't be parsed into an integer"),
        ("port 70000", "argument must be between 0 and 65535 inclusive"),
        ("maxclients 0", "argument must be between 1 and 1000000 inclusive"),
        ("protected-mode maybe", "argument must be 'yes' or 'no'"),
        ("proto-max-bulk-len 1zb", "argument must be a memory value"),
        ("no-such-directive 1", "Bad directive or wrong number of arguments"),
        ("requirepass \"open", "Unbalanced quotes in configuration line"),
        ("appendfsync sometimes", "argument(s) must be one of the following: always, everysec, no"),
        ("appendfilename a/b", "appendfilename can't be a path, just a filename"),
    ])
    func badLinesAreRefusedWithTheLineNumber(line: String, reason: String) {
        do {
            _ = try load("port 6390\n\n" + line)
            Issue.record("\(line) was accepted")
        } catch {
            #expect(error.line == 3)
            #expect(error.reason == reason)
            #expect(error.description.contains(">>> '\(line)'"))
        }
    }

    @Test func flagsBecomeLines() throws {
        let text = ConfigLoader.flagsToText(["--port", "6380", "--bind", "127.0.0.1", "::1", "--requirepass", "a b\"c"])
        let config = try load(text)
        #expect(config.port == 6380 && config.bind == ["127.0.0.1", "::1"] && config.requirePass == "a b\"c")
    }

    @Test func aCopyHasEveryValue() throws {
        let config = try load("port 1234\nhz 33\ntimeout 9\nrequirepass pw\nclient-output-buffer-limit normal 1 2 3")
        let copy = config.copy()
        for directive in ConfigDirectives.all {
            #expect(directive.get(copy) == directive.get(config), "\(directive.name)")
        }
        copy.hz = 1
        #expect(config.hz == 33)
    }
}
