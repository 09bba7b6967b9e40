import Testing
import JobdRESP
@testable import jobd

@Suite struct DurationsTests {
    @Test func everyUnitAndPlainMilliseconds() {
        #expect(Durations.milliseconds("250ms") == 250)
        #expect(Durations.milliseconds("30s") == 30_000)
        #expect(Durations.milliseconds("5m") == 300_000)
        #expect(Durations.milliseconds("2h") == 7_200_000)
        #expect(Durations.milliseconds("1d") == 86_400_000)
        #expect(Durations.milliseconds("1500") == 1500)
        #expect(Durations.milliseconds("0") == 0)
    }

    @Test func rejectsWhatIsNotADuration() {
        for text in ["", "s", "-1s", "1.5s", "5x", "5 s", "5S", "1ms2", "٣s", "99999999999999999999", "999999999999999999d"] {
            #expect(Durations.milliseconds(text) == nil, "\(text)")
        }
    }

    @Test func describesWithTheLargestUnits() {
        #expect(Durations.describe(750) == "750ms")
        #expect(Durations.describe(1000) == "1s")
        #expect(Durations.describe(1550) == "1.5s")
        #expect(Durations.describe(125_000) == "2m5s")
        #expect(Durations.describe(3 * 3_600_000) == "3h")
        #expect(Durations.describe(86_400_000 + 7_200_000 + 60_000) == "1d2h")
    }
}

@Suite struct TimestampsTests {
    @Test func formatsUTC() {
        #expect(Timestamps.format(0) == "-")
        #expect(Timestamps.format(1) == "1970-01-01T00:00:00.001Z")
        #expect(Timestamps.format(951_782_400_000) == "2000-02-29T00:00:00.000Z")
        #expect(Timestamps.format(4_102_444_799_999) == "2099-12-31T23:59:59.999Z")
    }

    @Test func parsesWhatItFormats() {
        for millis: Int64 in [1, 951_782_400_000, 1_700_000_000_123, 4_102_444_799_999] {
            #expect(Timestamps.parse(Timestamps.format(millis)) == millis)
        }
    }

    @Test func parsesISO8601Forms() {
        let newYear2100: Int64 = 4_102_444_800_000
        #expect(Timestamps.parse("4102444800000") == newYear2100)
        #expect(Timestamps.parse("2100-01-01") == newYear2100)
        #expect(Timestamps.parse("2100-01-01T00:00") == newYear2100)
        #expect(Timestamps.parse("2100-01-01 00:00:00z") == newYear2100)
        #expect(Timestamps.parse("2100-01-01T01:00:00+01:00") == newYear2100)
        #expect(Timestamps.parse("2099-12-31T23:00:00-0100") == newYear2100)
        #expect(Timestamps.parse("2100-01-01T00:00:00.5Z") == newYear2100 + 500)
        #expect(Timestamps.parse("2100-01-01T00:00:00.123456Z") == newYear2100 + 123)
    }

    @Test func rejectsImpossibleDatesAndJunk() {
        for text in ["", "-5", "2100-13-01", "2100-02-29", "2100-04-31", "2100-01-01T24:00", "2100-01-01T00:60",
                     "2100-01-01T00:00:00.Z", "2100-01-01T00:00:00+2", "2100-01-01T00:00:00Zjunk", "21000-01-01", "tomorrow"] {
            #expect(Timestamps.parse(text) == nil, "\(text)")
        }
        #expect(Timestamps.parse("2096-02-29") != nil)
    }
}

@Suite struct ServerAddressTests {
    @Test func redisURLs() throws {
        var address = try ServerAddress.parse(url: "redis://alice:p%40ss@db.example:6380/4")
        #expect(address.endpoint == .tcp(host: "db.example", port: 6380))
        #expect(address.user == "alice" && address.password == "p@ss" && address.database == 4)
        address = try ServerAddress.parse(url: "redis://:secret@[::1]:7000")
        #expect(address.endpoint == .tcp(host: "::1", port: 7000) && address.user == nil && address.password == "secret")
        address = try ServerAddress.parse(url: "redis://localhost")
        #expect(address.endpoint == .tcp(host: "localhost", port: 6379) && address.password == nil)
        address = try ServerAddress.parse(url: "redis://pw@host:1/")
        #expect(address.password == "pw" && address.database == 0)
    }

    @Test func unixURLs() throws {
        let address = try ServerAddress.parse(url: "unix:///run/jobd.sock?db=2&password=a%26b")
        #expect(address.endpoint == .unix(path: "/run/jobd.sock") && address.database == 2 && address.password == "a&b")
    }

    @Test func badURLs() {
        for url in ["http://h", "redis://h:0", "redis://h:x", "redis://h/x", "redis://[::1", "unix://rel", "unix:///s?color=1",
                    "redis://%4@h"] {
            #expect(throws: ClientError.self, "\(url)") { try ServerAddress.parse(url: url) }
        }
    }

    @Test func flagsOverrideTheURLFieldByField() throws {
        let url = "redis://:old@10.0.0.1:7000/3"
        var flags = ServerAddress.Flags()
        flags.port = "7001"
        var address = try ServerAddress.resolve(environmentURL: url, flags: flags)
        #expect(address.endpoint == .tcp(host: "10.0.0.1", port: 7001) && address.password == "old" && address.database == 3)
        flags = ServerAddress.Flags()
        flags.socket = "/tmp/s"
        flags.password = "new"
        address = try ServerAddress.resolve(environmentURL: url, flags: flags)
        #expect(address.endpoint == .unix(path: "/tmp/s") && address.password == "new")
        address = try ServerAddress.resolve(environmentURL: nil, flags: ServerAddress.Flags())
        #expect(address.endpoint == .tcp(host: "127.0.0.1", port: 6379))
    }
}

@Suite struct ClientArgumentsTests {
    func parse(_ words: [String]) throws -> ClientArguments {
        try ClientArguments(words, valueOptions: ["--count"], flagOptions: ["--all"], environmentURL: nil)
    }

    @Test func optionsAmongPositionals() throws {
        let arguments = try parse(["q", "--count=3", "-", "--all", "--port", "7000", "--", "--not-an-option"])
        #expect(arguments.positionals == ["q", "-", "--not-an-option"])
        #expect(arguments.value("--count") == "3" && arguments.has("--all") && !arguments.help)
        #expect(arguments.address.endpoint == .tcp(host: "127.0.0.1", port: 7000))
    }

    @Test func usageErrors() {
        for words in [["--nope"], ["--count"], ["--all=1"], ["--port", "0"], ["-x"]] {
            #expect(throws: ClientError.self, "\(words)") { try parse(words) }
        }
        #expect(throws: ClientError.self) { try parse(["a", "b"]).expectPositionals("ONE") }
        #expect(throws: ClientError.self) { try parse([]).expectPositionals("ONE") }
        #expect(throws: ClientError.self) { try parse(["--count", "x"]).integer("--count", in: 1...5) }
    }
}

@Suite struct TablePrinterTests {
    @Test func alignsColumns() {
        var table = TablePrinter(titles: ["name", "n"], rightAligned: ["n"])
        table.add(["alpha", "1"])
        table.add(["b", "1234"])
        #expect(table.render() == ["name      n", "alpha     1", "b      1234"])
    }

    @Test func escapesBytesThatWouldSteerATerminal() {
        #expect(TablePrinter.printable(Array("a\nb\t\u{1B}[2J\\é".utf8)) == "a\\nb\\t\\x1b[2J\\\\é")
        #expect(TablePrinter.printable([0x61, 0xFF, 0xE2, 0x82, 0x62]) == "a\\xff\\xe2\\x82b")
        #expect(TablePrinter.printable(Array("\u{85}".utf8)) == "\\u{85}")
        #expect(TablePrinter.truncate("abcdef", to: 4) == "abc…")
        #expect(TablePrinter.truncate("abc", to: 4) == "abc")
    }

    @Test func readsMapsAndFlatArraysAlike() {
        let map = RESPValue.map([(.bulk(Array("a".utf8)), .integer(1))])
        let flat = RESPValue.array([.bulk(Array("a".utf8)), .bulk(Array("1".utf8))])
        #expect(map.fields?[field: "a"]?.integerValue == 1)
        #expect(flat.fields?[field: "a"]?.integerValue == 1)
    }
}
