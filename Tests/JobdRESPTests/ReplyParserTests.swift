import Testing
@testable import JobdRESP

private func bulk(_ s: String) -> RESPValue { .bulk(Array(s.utf8)) }

/// Decodes every reply in `bytes`; fails the test when something is left over.
private func decodeAll(_ bytes: [UInt8]) throws -> [RESPValue] {
    var values: [RESPValue] = []
    var offset = 0
    while offset < bytes.count {
        let parsed = try bytes[offset...].withUnsafeBytes { try ReplyParser().parse($0) }
        guard let (value, used) = parsed else {
            Issue.record("incomplete at \(offset) of \(bytes.count)")
            break
        }
        #expect(used > 0)
        values.append(value)
        offset += used
    }
    return values
}

private func decodeOne(_ text: String) throws -> RESPValue? {
    try Array(text.utf8).withUnsafeBytes { try ReplyParser().parse($0) }?.0
}

@Suite struct ReplyParserTests {
    /// Every writer method, and what a client must read back, per version.
    static func everyReply(_ w: ReplyWriter) {
        w.ok()
        w.simpleString("PONG")
        w.error("ERR some\r\nerror")
        w.integer(0); w.integer(Int64.min); w.integer(Int64.max)
        w.bulk("text"); w.bulk(""); w.bulk((0...255).map { UInt8($0) })
        w.bulkDecimal(-77)
        w.nullBulk()
        w.nullArray()
        w.arrayHeader(3); w.integer(1); w.arrayHeader(1); w.bulk("nested"); w.emptyArray()
        w.mapHeader(2); w.bulk("k1"); w.integer(1); w.bulk("k2"); w.nullBulk()
        w.setHeader(2); w.bulk("a"); w.bulk("b")
        w.pushHeader(3); w.bulk("message"); w.bulk("chan"); w.bulk("payload")
        w.double(0.1); w.double(-.infinity)
        w.boolean(true); w.boolean(false)
        w.verbatim("line1\r\nline2")
    }

    static let every = (0...255).map { UInt8($0) }

    static let expectedRESP2: [RESPValue] = [
        .simple("OK"), .simple("PONG"), .error("ERR some  error"),
        .integer(0), .integer(Int64.min), .integer(Int64.max),
        bulk("text"), bulk(""), .bulk(every), bulk("-77"),
        .null, .null,
        .array([.integer(1), .array([bulk("nested")]), .array([])]),
        .array([bulk("k1"), .integer(1), bulk("k2"), .null]),
        .array([bulk("a"), bulk("b")]),
        .array([bulk("message"), bulk("chan"), bulk("payload")]),
        bulk("0.10000000000000001"), bulk("-inf"),
        .integer(1), .integer(0),
        bulk("line1\r\nline2"),
    ]

    static let expectedRESP3: [RESPValue] = [
        .simple("OK"), .simple("PONG"), .error("ERR some  error"),
        .integer(0), .integer(Int64.min), .integer(Int64.max),
        bulk("text"), bulk(""), .bulk(every), bulk("-77"),
        .null, .null,
        .array([.integer(1), .array([bulk("nested")]), .array([])]),
        .map([(bulk("k1"), .integer(1)), (bulk("k2"), .null)]),
        .set([bulk("a"), bulk("b")]),
        .push([bulk("message"), bulk("chan"), bulk("payload")]),
        .double("0.10000000000000001"), .double("-inf"),
        .boolean(true), .boolean(false),
        .verbatim(format: "txt", text: Array("line1\r\nline2".utf8)),
    ]

    @Test func whatTheWriterWritesInRESP2ReadsBack() throws {
        #expect(try decodeAll(encodedBytes(.resp2, Self.everyReply)) == Self.expectedRESP2)
    }

    @Test func whatTheWriterWritesInRESP3ReadsBack() throws {
        #expect(try decodeAll(encodedBytes(.resp3, Self.everyReply)) == Self.expectedRESP3)
    }

    @Test(arguments: [ProtocolVersion.resp2, .resp3])
    func everyProperPrefixOfAReplyIsIncomplete(version: ProtocolVersion) throws {
        let bytes = encodedBytes(version) { w in
            w.mapHeader(2); w.bulk("a"); w.arrayHeader(2); w.double(2.5); w.nullBulk()
            w.bulk("b"); w.setHeader(1); w.verbatim("x")
        }
        for length in 0..<bytes.count {
            let parsed = try bytes[0..<length].withUnsafeBytes { try ReplyParser().parse($0) }
            #expect(parsed == nil, "\(length) of \(bytes.count) bytes parsed")
        }
        let whole = try #require(try bytes.withUnsafeBytes { try ReplyParser().parse($0) })
        #expect(whole.1 == bytes.count)
    }

    @Test func theRestOfTheRESP3TypesDecode() throws {
        #expect(try decodeOne("(3492890328409238509324850943850943825024385\r\n") == .bigNumber("3492890328409238509324850943850943825024385"))
        #expect(try decodeOne("!21\r\nSYNTAX invalid syntax\r\n") == .error("SYNTAX invalid syntax"))
        #expect(try decodeOne("=15\r\nmkd:Some string\r\n") == .verbatim(format: "mkd", text: Array("Some string".utf8)))
        #expect(try decodeOne(",1.23\r\n") == .double("1.23"))
        #expect(try decodeOne(",inf\r\n") == .double("inf"))
        #expect(try decodeOne("_\r\n") == .null)
        #expect(try decodeOne("%0\r\n") == .map([]))
        #expect(try decodeOne("~0\r\n") == .set([]))
    }

    @Test func malformedRepliesThrow() {
        #expect(throws: ReplyParser.Malformed.self) { try decodeOne("?what\r\n") }
        #expect(throws: ReplyParser.Malformed.self) { try decodeOne(":12x\r\n") }
        #expect(throws: ReplyParser.Malformed.self) { try decodeOne("$abc\r\n") }
        #expect(throws: ReplyParser.Malformed.self) { try decodeOne("*2\r\n:1\r\n?\r\n") }
    }

    @Test func valuesDescribeThemselvesAndGiveTheirText() {
        #expect(bulk("x").text == "x")
        #expect(RESPValue.integer(-3).text == "-3")
        #expect(RESPValue.simple("OK").text == "OK")
        #expect(RESPValue.null.text == nil)
        #expect(RESPValue.array([.integer(1), bulk("a")]).description == "[:1, \"a\"]")
        #expect(RESPValue.map([(bulk("k"), .null)]).description == "{\"k\": (nil)}")
        // Maps compare pairwise in order.
        #expect(RESPValue.map([(bulk("a"), .integer(1))]) != RESPValue.map([(bulk("a"), .integer(2))]))
        #expect(RESPValue.map([(bulk("a"), .integer(1))]) != RESPValue.array([bulk("a"), .integer(1)]))
    }
}
