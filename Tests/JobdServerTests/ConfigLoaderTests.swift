import Testing
import JobdPersistence
import JobdSystem
@testable import JobdServer

private func load(_ text: String) throws(ConfigLoader.LoadError) -> ServerConfig {
    let config = ServerConfig()
    try ConfigLoader.apply(text, source: "test", to: config)
    return config
}

/// The error `text` gives, or nil when it loads.
private func loadError(_ text: String) -> ConfigLoader.LoadError? {
    do {
        _ = try load(text)
        return nil
    } catch {
        return error
    }
}

@Suite struct ConfigLoaderTests {
    @Test func aSampleFileWithCommentsQuotesAndBlankLinesLoads() throws {
        let config = try load("""
        # jobd.conf written by hand
        port 6390

          # an indented comment
          bind 127.0.0.1 ::1 10.0.0.1
        requirepass "two words"
        dir '/var/lib/jobd data'
        pidfile "/run/jobd\\x2epid"
        logfile "tab\\there"
        LogLevel WARNING
        client-output-buffer-limit normal 1mb 512kb 10 pubsub 0 0 0
        #port 1
        """)
        #expect(config.port == 6390)
        #expect(config.bind == ["127.0.0.1", "::1", "10.0.0.1"])
        #expect(config.requirePass == "two words")
        #expect(config.dir == "/var/lib/jobd data")
        #expect(config.pidFile == "/run/jobd.pid")
        #expect(config.logFile == "tab\there")
        #expect(config.logLevel == .warning)
        #expect(config.outputLimits[.normal] == OutputBufferLimit(hardBytes: 1 << 20, softBytes: 512 * 1024, softSeconds: 10))
        #expect(config.outputLimits[.pubsub] == OutputBufferLimit(hardBytes: 0, softBytes: 0, softSeconds: 0))
        #expect(config.outputLimits[.replica] == ServerConfig().outputLimits[.replica], "classes not named keep their limits")
    }

    @Test func tabsAndTrailingSpacesAreTolerated() throws {
        let config = try load("port 7000 \n\thz 20\t\n \nrequirepass \"a b\"   ")
        #expect(config.port == 7000 && config.hz == 20 && config.requirePass == "a b")
    }

    @Test func windowsLineEndingsAreTolerated() throws {
        // Redis splits on "\n" and trims "\r". In Swift "\r\n" is one Character, so
        // splitting a String on "\n" leaves a CRLF file as one line: only the first
        // directive is applied and the rest are silently ignored.
        let config = try load("port 7000\r\n\thz 20\r\n\r\nrequirepass \"a b\"\r\n")
        #expect(config.port == 7000)
        #expect(config.hz == 20)
        #expect(config.requirePass == "a b")
        #expect(loadError("port 1\r\nnot-a-directive 1\r\n")?.line == 2)
    }

    @Test func theLastOccurrenceOfADirectiveWins() throws {
        let config = try load("port 1\nport 2\nbind 10.0.0.1\nbind 10.0.0.2")
        #expect(config.port == 2 && config.bind == ["10.0.0.2"])
    }

    @Test func redisNamesStillWork() throws {
        #expect(try load("lua-time-limit 123").busyReplyThresholdMillis == 123)
        #expect(try load("client-output-buffer-limit slave 1 2 3").outputLimits[.replica]
                == OutputBufferLimit(hardBytes: 1, softBytes: 2, softSeconds: 3))
        #expect(try load("save \"\"").port == 6379)
    }

    @Test func anEmptyTextChangesNothing() throws {
        let config = try load("\n\n# nothing\n   \n")
        let defaults = ServerConfig()
        for directive in ConfigDirectives.all {
            #expect(directive.get(config) == directive.get(defaults), "\(directive.name)")
        }
    }

    // MARK: Errors

    @Test func anUnknownDirectiveNamesItsLine() throws {
        let error = try #require(loadError("# header\n\nport 6390\nnot-a-directive yes\nport 1"))
        #expect(error.line == 4)
        #expect(error.text == "not-a-directive yes")
        #expect(error.reason == "Bad directive or wrong number of arguments")
        #expect(error.source == "test")
        #expect(error.description == """
        *** FATAL CONFIG ERROR (jobd) ***
        Reading test, at line 4
        >>> 'not-a-directive yes'
        Bad directive or wrong number of arguments
        """)
    }

    @Test(arguments: [
        ("port abc", "argument couldn't be parsed into an integer"),
        ("port 70000", "argument must be between 0 and 65535 inclusive"),
        ("port -1", "argument must be between 0 and 65535 inclusive"),
        ("port 1.5", "argument couldn't be parsed into an integer"),
        ("port 1 2", "wrong number of arguments"),
        ("port", "wrong number of arguments"),
        ("maxclients 0", "argument must be between 1 and 1000000 inclusive"),
        ("hz 0", "argument must be between 1 and 500 inclusive"),
        ("databases 0", "argument must be between 1 and 1000000 inclusive"),
        ("protected-mode maybe", "argument must be 'yes' or 'no'"),
        ("appendonly 1", "argument must be 'yes' or 'no'"),
        ("proto-max-bulk-len 1zb", "argument must be a memory value"),
        ("proto-max-bulk-len 1.5mb", "argument must be a memory value"),
        ("proto-max-bulk-len 1kb", "argument must be between 1048576 and 8589934588 inclusive"),
        ("client-query-buffer-limit -1", "argument must be a memory value"),
        ("loglevel loud", "argument(s) must be one of the following: debug, verbose, notice, warning"),
        ("unixsocketperm 999", "argument couldn't be parsed as an octal number"),
        ("bind", "wrong number of arguments"),
        ("client-output-buffer-limit normal 1 2", "Wrong number of arguments in buffer limit configuration."),
        ("client-output-buffer-limit nosuch 1 2 3", "Invalid client class specified in buffer limit configuration."),
        ("client-output-buffer-limit normal 1x 2 3", "Error in hard, soft or soft_seconds setting in buffer limit configuration."),
        ("client-output-buffer-limit normal 1 2 -3", "Error in hard, soft or soft_seconds setting in buffer limit configuration."),
        ("save 900 1", "jobd does not write RDB snapshots; persistence is the append-only log"),
        ("no-such-directive 1", "Bad directive or wrong number of arguments"),
        ("requirepass \"open", "Unbalanced quotes in configuration line"),
        ("requirepass 'a'b", "Unbalanced quotes in configuration line"),
        ("appendfsync sometimes", "argument(s) must be one of the following: always, everysec, no"),
        ("appendfilename a/b", "appendfilename can't be a path, just a filename"),
        ("appendfilename \"\"", "appendfilename can't be empty"),
        ("appenddirname x/y", "appenddirname can't be a path, just a dirname"),
    ])
    func badLinesAreRefusedWithTheLineNumber(line: String, reason: String) throws {
        let error = try #require(loadError("port 6390\n\n" + line), "\(line) was accepted")
        #expect(error.line == 3)
        #expect(error.reason == reason)
        #expect(error.description.contains(">>> '\(line)'"))
    }

    @Test func queueLinesAddUpInOrderAndABadOneNamesItsLine() throws {
        let config = try load("""
        queue emails rate 100/s concurrency 5
        queue "my reports" priority 7 rate 30/m paused yes
        queue emails rate off
        """)
        #expect(config.queues.map(\.configWords) == [
            ["emails", "rate", "100/s", "concurrency", "5"],
            ["my reports", "priority", "7", "rate", "30/m", "paused", "yes"],
            ["emails", "rate", "0"],
        ])
        let error = try #require(loadError("port 7000\nqueue q rate fast\n"))
        #expect(error.line == 2 && error.reason.hasPrefix("queue: invalid rate 'fast'"))
        #expect(loadError("queue q concurrency -2")?.reason.hasPrefix("queue: concurrency must") == true)
        #expect(loadError("queue")?.reason.hasPrefix("queue: expected") == true)
        // One flag with the whole line, as for worker.
        let flagged = try load(ConfigLoader.flagsToText(["--queue", "q rate 20/s"]))
        #expect(flagged.queues.map(\.configWords) == [["q", "rate", "20/s"]])
    }

    @Test func aFailedLoadStopsAtTheBadLine() {
        let config = ServerConfig()
        #expect(throws: ConfigLoader.LoadError.self) {
            try ConfigLoader.apply("port 1000\nport nope\nhz 99", source: "test", to: config)
        }
        #expect(config.port == 1000 && config.hz == 10)
    }

    // MARK: Values

    @Test func memoryUnitsAreRedisUnits() {
        #expect(ConfigValues.memory("1gb") == 1_073_741_824)
        #expect(ConfigValues.memory("1GB") == 1_073_741_824)
        #expect(ConfigValues.memory("1Gb") == 1_073_741_824)
        #expect(ConfigValues.memory("1g") == 1_000_000_000)
        #expect(ConfigValues.memory("10mb") == 10_485_760)
        #expect(ConfigValues.memory("10MB") == 10_485_760)
        #expect(ConfigValues.memory("10m") == 10_000_000)
        #expect(ConfigValues.memory("512kb") == 524_288)
        #expect(ConfigValues.memory("512k") == 512_000)
        #expect(ConfigValues.memory("100b") == 100)
        #expect(ConfigValues.memory("100") == 100)
        #expect(ConfigValues.memory("0") == 0)
        for bad in ["1zb", "-1", "", "gb", "1.5mb", " 1mb", "1 mb", "1tb", "mb1", "99999999999999gb", "٣mb"] {
            #expect(ConfigValues.memory(bad) == nil, "\(bad)")
        }
    }

    @Test func memoryDirectivesTakeUnits() throws {
        let config = try load("proto-max-bulk-len 1gb\nclient-query-buffer-limit 1g\nauto-aof-rewrite-min-size 10mb")
        #expect(config.protoMaxBulkLen == 1_073_741_824)
        #expect(config.clientQueryBufferLimit == 1_000_000_000)
        #expect(config.autoRewriteMinSize == 10_485_760)
        #expect(try load("auto-aof-rewrite-min-size 512k").autoRewriteMinSize == 512_000)
    }

    @Test func enumeratedValuesIgnoreCase() throws {
        let config = try load("appendfsync ALWAYS\nprotected-mode NO\nappendonly No\nloglevel Debug")
        #expect(config.appendFsync == .always && !config.protectedMode && !config.appendOnly && config.logLevel == .debug)
        #expect(try load("unixsocketperm 770").unixSocketPerm == 0o770)
    }

    // MARK: Flags

    @Test func flagsBecomeConfigLines() throws {
        #expect(ConfigLoader.flagsToText(["--port", "6380", "--bind", "127.0.0.1", "::1"]) == "port 6380\nbind 127.0.0.1 ::1")
        #expect(ConfigLoader.flagsToText([]) == "")
        #expect(ConfigLoader.flagsToText(["--appendonly", "no", "--save", ""]) == "appendonly no\nsave \"\"")
        let text = ConfigLoader.flagsToText(["--port", "6380", "--bind", "127.0.0.1", "::1", "--requirepass", "a b\"c\\d'e",
                                             "--dir", "/tmp/x y", "--logfile", "line\nbreak\ttab"])
        let config = try load(text)
        #expect(config.port == 6380 && config.bind == ["127.0.0.1", "::1"])
        #expect(config.requirePass == "a b\"c\\d'e")
        #expect(config.dir == "/tmp/x y")
        #expect(config.logFile == "line\nbreak\ttab")
    }

    @Test func flagValuesWithSpacesKeepNonASCIIText() throws {
        // A quoted flag value must come back byte for byte, accents included.
        let config = try load(ConfigLoader.flagsToText(["--dir", "/srv/jöbd data", "--requirepass", "pä ss"]))
        #expect(config.dir == "/srv/jöbd data")
        #expect(config.requirePass == "pä ss")
        // Without spaces no quoting happens, and the text is kept.
        #expect(try load(ConfigLoader.flagsToText(["--dir", "/srv/jöbd"])).dir == "/srv/jöbd")
    }

    // MARK: Copies

    /// A value other than the default for every directive (save only has one value).
    static let nonDefaults: [String: String] = [
        "bind": "10.1.2.3 ::1 0.0.0.0", "port": "7001", "unixsocket": "/tmp/jobd test.sock", "unixsocketperm": "750",
        "tcp-backlog": "128", "tcp-keepalive": "60", "timeout": "30", "protected-mode": "no", "requirepass": "s3cret pass\"q",
        "maxclients": "77", "slowlog-log-slower-than": "-1", "maxmemory": "100mb", "maxmemory-policy": "allkeys-lru",
        "maxmemory-samples": "7", "lfu-log-factor": "3", "lfu-decay-time": "5", "slowlog-max-len": "5", "lease-timeout": "1000", "result-ttl": "5", "priority-aging": "60000", "databases": "4", "dir": "/var/lib/jobd two", "pidfile": "/run/jobd.pid", "loglevel": "verbose",
        "logfile": "/var/log/jobd.log", "hz": "50", "proto-max-bulk-len": "2mb", "client-query-buffer-limit": "2gb",
        "client-output-buffer-limit": "normal 1 2 3 replica 4 5 6 pubsub 7 8 9", "save": "",
        "appendonly": "no", "appendfsync": "always", "appendfilename": "log.aof", "appenddirname": "logs",
        "aof-load-truncated": "no", "auto-aof-rewrite-percentage": "50", "auto-aof-rewrite-min-size": "1mb",
        "busy-reply-threshold": "1234", "worker": "q1,q2 exec /bin/cat -u concurrency 3 timeout 500 retries 2",
        "http-port": "7421", "http-bind": "0.0.0.0 ::1", "rename-command": "FLUSHALL \"\"",
        "cron": "nightly \"0 3 * * *\" reports x RETRIES 3", "aof-wait-buffer-limit": "1mb",
        "shutdown-timeout": "2000", "queue": "\"my q\" rate 100/s concurrency 5 priority 2 paused yes",
    ]

    @Test func everyDirectiveHasANonDefaultValueInThisTest() {
        for directive in ConfigDirectives.all {
            #expect(Self.nonDefaults[directive.name] != nil, "add a value for '\(directive.name)' to ConfigLoaderTests.nonDefaults")
        }
    }

    @Test func aCopyHasEveryValue() throws {
        let config = ServerConfig()
        let defaults = ServerConfig()
        for directive in ConfigDirectives.all {
            guard let value = Self.nonDefaults[directive.name] else { continue }
            try directive.set(config, [value])
            if directive.name != "save" {
                #expect(directive.get(config) != directive.get(defaults), "\(directive.name) should differ from its default")
            }
        }
        let copy = config.copy()
        for directive in ConfigDirectives.all {
            #expect(directive.get(copy) == directive.get(config), "\(directive.name)")
        }
        #expect(copy.bind == ["10.1.2.3", "::1", "0.0.0.0"] && copy.requirePass == "s3cret pass\"q")
        #expect(copy.outputLimits[.pubsub] == OutputBufferLimit(hardBytes: 7, softBytes: 8, softSeconds: 9))
        // The copy is independent.
        copy.hz = 1
        copy.bind.append("1.1.1.1")
        #expect(config.hz == 50 && config.bind.count == 3)
    }

    @Test func theDefaultsAreWhatDesignSays() {
        let config = ServerConfig()
        #expect(config.port == 6379 && config.bind == ["127.0.0.1", "::1"])
        #expect(config.protoMaxBulkLen == 512 * 1024 * 1024 && config.clientQueryBufferLimit == 1 << 30)
        #expect(config.maxClients == 10000 && config.timeout == 0 && config.protectedMode && config.requirePass.isEmpty)
        #expect(config.appendFsync == .everysec)
    }
}
