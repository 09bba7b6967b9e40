import Testing
@testable import JobdRESP

private func encoded(_ version: ProtocolVersion, _ write: (ReplyWriter) -> Void) -> String {
    let buffer = ByteBuffer(capacity: 16)
    write(ReplyWriter(out: buffer, version: version))
    return String(decoding: buffer.readableArray, as: UTF8.self)
}

@Suite struct ReplyWriterTests {
    @Test func scalarsAreTheSameInBothVersions() {
        for version in [ProtocolVersion.resp2, .resp3] {
            #expect(encoded(version) { $0.ok() } == "+OK\r\n")
            #expect(encoded(version) { $0.simpleString("PONG") } == "+PONG\r\n")
            #expect(encoded(version) { $0.error("ERR bad\r\nthing") } == "-ERR bad  thing\r\n")
            #expect(encoded(version) { $0.integer(-42) } == ":-42\r\n")
            #expect(encoded(version) { $0.bulk("hey") } == "$3\r\nhey\r\n")
            #expect(encoded(version) { $0.bulk("") } == "$0\r\n\r\n")
            #expect(encoded(version) { $0.arrayHeader(3) } == "*3\r\n")
            #expect(encoded(version) { $0.emptyArray() } == "*0\r\n")
        }
    }

    @Test func nullsMapsAndSetsDependOnTheVersion() {
        #expect(encoded(.resp2) { $0.nullBulk() } == "$-1\r\n")
        #expect(encoded(.resp3) { $0.nullBulk() } == "_\r\n")
        #expect(encoded(.resp2) { $0.nullArray() } == "*-1\r\n")
        #expect(encoded(.resp3) { $0.nullArray() } == "_\r\n")
        #expect(encoded(.resp2) { $0.mapHeader(2) } == "*4\r\n")
        #expect(encoded(.resp3) { $0.mapHeader(2) } == "%2\r\n")
        #expect(encoded(.resp2) { $0.setHeader(2) } == "*2\r\n")
        #expect(encoded(.resp3) { $0.setHeader(2) } == "~2\r\n")
        #expect(encoded(.resp2) { $0.pushHeader(3) } == "*3\r\n")
        #expect(encoded(.resp3) { $0.pushHeader(3) } == ">3\r\n")
        #expect(encoded(.resp2) { $0.boolean(true) } == ":1\r\n")
        #expect(encoded(.resp3) { $0.boolean(false) } == "#f\r\n")
        #expect(encoded(.resp2) { $0.verbatim("hi") } == "$2\r\nhi\r\n")
        #expect(encoded(.resp3) { $0.verbatim("hi") } == "=6\r\ntxt:hi\r\n")
    }

    @Test func doublesUseRedis70Formatting() {
        #expect(encoded(.resp2) { $0.double(1.5) } == "$3\r\n1.5\r\n")
        #expect(encoded(.resp3) { $0.double(0.1) } == ",0.10000000000000001\r\n")
        #expect(encoded(.resp3) { $0.double(.infinity) } == ",inf\r\n")
        #expect(encoded(.resp2) { $0.double(-.infinity) } == "$4\r\n-inf\r\n")
    }

    @Test func decimalsCoverTheWholeRange() {
        for value: Int64 in [0, 7, -7, 10, 1_000_000, Int64.max, Int64.min] {
            #expect(encoded(.resp2) { $0.integer(value) } == ":\(value)\r\n")
        }
    }

    @Test func whatTheWriterWritesTheReplyParserReadsBack() throws {
        let buffer = ByteBuffer(capacity: 16)
        let writer = ReplyWriter(out: buffer, version: .resp3)
        writer.mapHeader(2)
        writer.bulk("a"); writer.integer(1)
        writer.bulk("b"); writer.arrayHeader(2); writer.nullBulk(); writer.double(2.5)
        writer.setHeader(1); writer.simpleString("x")
        let bytes = buffer.readableArray
        let parsed = try bytes.withUnsafeBytes { try ReplyParser().parse($0) }
        let (first, used) = try #require(parsed)
        #expect(first == .map([(.bulk(Array("a".utf8)), .integer(1)),
                               (.bulk(Array("b".utf8)), .array([.null, .double("2.5")]))]))
        let rest = try bytes[used...].withUnsafeBytes { try ReplyParser().parse($0) }
        #expect(rest?.0 == .set([.simple("x")]))
        // Incomplete input is not an error, just not ready.
        #expect(try bytes[0..<5].withUnsafeBytes { try ReplyParser().parse($0) } == nil)
    }
}
