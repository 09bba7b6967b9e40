import Testing
@testable import JobdRESP

/// The bytes `write` produces, as text (replies here are ASCII or UTF-8).
func encoded(_ version: ProtocolVersion, _ write: (ReplyWriter) -> Void) -> String {
    String(decoding: encodedBytes(version, write), as: UTF8.self)
}

func encodedBytes(_ version: ProtocolVersion, _ write: (ReplyWriter) -> Void) -> [UInt8] {
    let buffer = ByteBuffer(capacity: 16)
    write(ReplyWriter(out: buffer, version: version))
    return buffer.readableArray
}

@Suite struct ReplyWriterTests {
    static let versions: [ProtocolVersion] = [.resp2, .resp3]

    @Test(arguments: versions)
    func simpleRepliesAreTheSameInBothVersions(version: ProtocolVersion) {
        #expect(encoded(version) { $0.ok() } == "+OK\r\n")
        #expect(encoded(version) { $0.simpleString("PONG") } == "+PONG\r\n")
        #expect(encoded(version) { $0.simpleString(String("dyn" + "amic")) } == "+dynamic\r\n")
        #expect(encoded(version) { $0.error("ERR static") } == "-ERR static\r\n")
        #expect(encoded(version) { $0.error(String("WRONGTYPE Operation")) } == "-WRONGTYPE Operation\r\n")
        #expect(encoded(version) { $0.raw("+QUEUED\r\n") } == "+QUEUED\r\n")
    }

    @Test(arguments: versions)
    func newlinesInErrorsAndStatusRepliesBecomeSpaces(version: ProtocolVersion) {
        #expect(encoded(version) { $0.error("ERR bad\r\nthing") } == "-ERR bad  thing\r\n")
        #expect(encoded(version) { $0.error("ERR a\nb\rc") } == "-ERR a b c\r\n")
        #expect(encoded(version) { $0.simpleString("two\nlines") } == "+two lines\r\n")
        // Other bytes, including UTF-8, pass through.
        #expect(encoded(version) { $0.error("ERR ключ\t!") } == "-ERR ключ\t!\r\n")
    }

    @Test(arguments: versions)
    func anErrorBuiltFromBytesKeepsInvalidUTF8AndLosesLineBreaks(version: ProtocolVersion) {
        let message: [UInt8] = Array("ERR unknown command '".utf8) + [0xFF, 0xFE, 13, 10, 0xC3] + Array("'".utf8)
        #expect(encodedBytes(version) { $0.error(bytes: message) }
                == [UInt8(ascii: "-")] + Array("ERR unknown command '".utf8) + [0xFF, 0xFE, 32, 32, 0xC3] + Array("'\r\n".utf8))
    }

    @Test(arguments: versions)
    func integersAreDecimal(version: ProtocolVersion) {
        for value: Int64 in [0, 1, -1, 7, -7, 10, 99, 100, -100, 1_000_000, Int64.max, Int64.min, Int64.min + 1] {
            #expect(encoded(version) { $0.integer(value) } == ":\(value)\r\n")
        }
        #expect(encoded(version) { $0.integer(42 as Int) } == ":42\r\n")
    }

    @Test(arguments: versions)
    func bulkStringsAreLengthPrefixedAndBinarySafe(version: ProtocolVersion) {
        #expect(encoded(version) { $0.bulk("hey") } == "$3\r\nhey\r\n")
        #expect(encoded(version) { $0.bulk("") } == "$0\r\n\r\n")
        #expect(encoded(version) { $0.bulk(String("é")) } == "$2\r\né\r\n")
        #expect(encoded(version) { $0.bulk([UInt8]()) } == "$0\r\n\r\n")
        let every = (0...255).map { UInt8($0) }
        #expect(encodedBytes(version) { $0.bulk(every) } == Array("$256\r\n".utf8) + every + [13, 10])
        let big = [UInt8](repeating: 120, count: 100_000)
        #expect(encodedBytes(version) { $0.bulk(big) } == Array("$100000\r\n".utf8) + big + [13, 10])
        #expect(encoded(version) { $0.bulkDecimal(-12345) } == "$6\r\n-12345\r\n")
        #expect(encoded(version) { $0.bulkDecimal(Int64.min) } == "$20\r\n-9223372036854775808\r\n")
    }

    @Test(arguments: versions)
    func arraysAreTheSameInBothVersions(version: ProtocolVersion) {
        #expect(encoded(version) { $0.arrayHeader(3) } == "*3\r\n")
        #expect(encoded(version) { $0.arrayHeader(0) } == "*0\r\n")
        #expect(encoded(version) { $0.emptyArray() } == "*0\r\n")
        #expect(encoded(version) { w in w.arrayHeader(2); w.bulk("a"); w.integer(1) } == "*2\r\n$1\r\na\r\n:1\r\n")
    }

    @Test func nullsDependOnTheVersion() {
        #expect(encoded(.resp2) { $0.nullBulk() } == "$-1\r\n")
        #expect(encoded(.resp3) { $0.nullBulk() } == "_\r\n")
        #expect(encoded(.resp2) { $0.nullArray() } == "*-1\r\n")
        #expect(encoded(.resp3) { $0.nullArray() } == "_\r\n")
    }

    @Test func mapsSetsAndPushesDependOnTheVersion() {
        #expect(encoded(.resp2) { $0.mapHeader(2) } == "*4\r\n")
        #expect(encoded(.resp3) { $0.mapHeader(2) } == "%2\r\n")
        #expect(encoded(.resp2) { $0.mapHeader(0) } == "*0\r\n")
        #expect(encoded(.resp3) { $0.mapHeader(0) } == "%0\r\n")
        #expect(encoded(.resp2) { $0.setHeader(2) } == "*2\r\n")
        #expect(encoded(.resp3) { $0.setHeader(2) } == "~2\r\n")
        #expect(encoded(.resp2) { $0.pushHeader(3) } == "*3\r\n")
        #expect(encoded(.resp3) { $0.pushHeader(3) } == ">3\r\n")
    }

    @Test func booleansAndVerbatimTextDependOnTheVersion() {
        #expect(encoded(.resp2) { $0.boolean(true) } == ":1\r\n")
        #expect(encoded(.resp2) { $0.boolean(false) } == ":0\r\n")
        #expect(encoded(.resp3) { $0.boolean(true) } == "#t\r\n")
        #expect(encoded(.resp3) { $0.boolean(false) } == "#f\r\n")
        #expect(encoded(.resp2) { $0.verbatim("hi") } == "$2\r\nhi\r\n")
        #expect(encoded(.resp3) { $0.verbatim("hi") } == "=6\r\ntxt:hi\r\n")
        #expect(encoded(.resp3) { $0.verbatim("") } == "=4\r\ntxt:\r\n")
        #expect(encoded(.resp3) { $0.verbatim("# Server\r\nx:1\r\n", format: "mkd") } == "=19\r\nmkd:# Server\r\nx:1\r\n\r\n")
        // The length counts bytes, not characters.
        #expect(encoded(.resp3) { $0.verbatim("é") } == "=6\r\ntxt:é\r\n")
    }

    @Test(arguments: [
        (0.1, "0.10000000000000001"),
        (1.5, "1.5"),
        (3.0, "3"),
        (-2.5, "-2.5"),
        (0.0, "0"),
        (-0.0, "-0"),
        (1e21, "1e+21"),
        (1.0 / 3.0, "0.33333333333333331"),
        (123456789.125, "123456789.125"),
        (Double.infinity, "inf"),
        (-Double.infinity, "-inf"),
    ])
    func doublesUseRedis70Formatting(value: Double, text: String) {
        #expect(encoded(.resp3) { $0.double(value) } == ",\(text)\r\n")
        #expect(encoded(.resp2) { $0.double(value) } == "$\(text.utf8.count)\r\n\(text)\r\n")
    }

    @Test func repliesAppendToWhatIsAlreadyInTheBuffer() {
        let buffer = ByteBuffer(capacity: 64)
        buffer.append("previous")
        let writer = ReplyWriter(out: buffer, version: .resp2)
        for i in 0..<1000 { writer.integer(Int64(i)) }
        let text = String(decoding: buffer.readableArray, as: UTF8.self)
        #expect(text.hasPrefix("previous:0\r\n:1\r\n"))
        #expect(text.hasSuffix(":998\r\n:999\r\n"))
        let expectedLength: Int = (0..<1000).reduce(8) { (sum: Int, i: Int) -> Int in sum + String(i).utf8.count + 3 }
        #expect(text.utf8.count == expectedLength)
    }
}

@Suite struct DecimalTests {
    private func decimal(_ value: Int64) -> String {
        var scratch = [UInt8](repeating: 0xEE, count: 32)
        let n = scratch.withUnsafeMutableBytes { ByteBuffer.writeDecimal(value, to: $0.baseAddress!) }
        // Nothing past the returned length is touched.
        #expect(scratch[n...].allSatisfy { $0 == 0xEE })
        return String(decoding: scratch[0..<n], as: UTF8.self)
    }

    @Test func writeDecimalCoversTheWholeRange() {
        #expect(decimal(0) == "0")
        #expect(decimal(5) == "5")
        #expect(decimal(-5) == "-5")
        #expect(decimal(10) == "10")
        #expect(decimal(-10) == "-10")
        #expect(decimal(Int64.max) == "9223372036854775807")
        #expect(decimal(Int64.min) == "-9223372036854775808")
        #expect(decimal(Int64.min + 1) == "-9223372036854775807")
        var rng = SplitMix(seed: 5)
        for _ in 0..<10_000 {
            let value = Int64(bitPattern: rng.next()) >> Int64.random(in: 0...63, using: &rng)
            #expect(decimal(value) == String(value))
        }
    }

    @Test func appendDecimalGrowsTheBuffer() {
        let buffer = ByteBuffer(capacity: 64)
        var expected = ""
        for value: Int64 in [0, -1, Int64.min, Int64.max, 42, -9_999_999] {
            buffer.appendDecimal(value)
            buffer.append(",")
            expected += "\(value),"
        }
        for _ in 0..<20 { buffer.appendDecimal(Int64.min); expected += "\(Int64.min)" }
        #expect(String(decoding: buffer.readableArray, as: UTF8.self) == expected)
    }
}
