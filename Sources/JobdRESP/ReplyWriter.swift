import JobdSystem

/// Protocol version a connection speaks, chosen with HELLO.
public enum ProtocolVersion: Int, Sendable {
    case resp2 = 2
    case resp3 = 3
}

/// Encodes replies into a connection's output buffer in RESP2 or RESP3.
/// Where RESP3 has a richer type (map, set, double, null, boolean, verbatim,
/// push) the RESP2 form is what Redis 7 sends to RESP2 clients.
public struct ReplyWriter {
    public let out: ByteBuffer
    public let version: ProtocolVersion

    @inline(__always)
    public init(out: ByteBuffer, version: ProtocolVersion) {
        self.out = out
        self.version = version
    }

    @inline(__always) public var isRESP3: Bool { version == .resp3 }

    // MARK: Simple types

    @inline(__always) public func ok() { out.append("+OK\r\n") }

    @inline(__always)
    public func simpleString(_ text: StaticString) {
        if Self.hasLineBreak(text) { return simpleString(text.description) }
        out.append(UInt8(ascii: "+"))
        out.append(text)
        out.append("\r\n")
    }

    @_disfavoredOverload  // literals take the StaticString version
    public func simpleString(_ text: String) {
        out.append(UInt8(ascii: "+"))
        out.append(string: Self.sanitized(text))
        out.append("\r\n")
    }

    /// An error reply. `message` starts with its code ("ERR ...", "WRONGTYPE ...").
    @inline(__always)
    public func error(_ message: StaticString) {
        if Self.hasLineBreak(message) { return error(message.description) }
        out.append(UInt8(ascii: "-"))
        out.append(message)
        out.append("\r\n")
    }

    /// An error reply built at run time; CR and LF become spaces as in Redis.
    @_disfavoredOverload  // literals take the StaticString version
    public func error(_ message: String) {
        out.append(UInt8(ascii: "-"))
        out.append(string: Self.sanitized(message))
        out.append("\r\n")
    }

    /// An error reply echoing a client's bytes as they are, whatever their
    /// encoding (Redis does not repair UTF-8); CR and LF become spaces.
    public func error(bytes message: [UInt8]) {
        out.append(UInt8(ascii: "-"))
        let safe = message.contains(where: { $0 == 13 || $0 == 10 })
            ? message.map { ($0 == 13 || $0 == 10) ? 32 : $0 } : message
        safe.withUnsafeBytes { out.append($0) }
        out.append("\r\n")
    }

    @inline(__always)
    public func integer(_ value: Int64) {
        out.reserve(24)
        let p = out.writePointer
        p.storeBytes(of: UInt8(ascii: ":"), as: UInt8.self)
        var n = 1 + ByteBuffer.writeDecimal(value, to: p + 1)
        (p + n).storeBytes(of: 13, as: UInt8.self)
        (p + n + 1).storeBytes(of: 10, as: UInt8.self)
        n += 2
        out.commitWrite(n)
    }

    @inline(__always) public func integer(_ value: Int) { integer(Int64(value)) }

    // MARK: Bulk strings

    @inline(__always)
    public func bulk(_ bytes: UnsafeRawBufferPointer) {
        let count = bytes.count
        out.reserve(count + 26)
        let p = out.writePointer
        p.storeBytes(of: UInt8(ascii: "$"), as: UInt8.self)
        var n = 1 + ByteBuffer.writeDecimal(Int64(count), to: p + 1)
        (p + n).storeBytes(of: 13, as: UInt8.self)
        (p + n + 1).storeBytes(of: 10, as: UInt8.self)
        n += 2
        if count > 0 { (p + n).copyMemory(from: bytes.baseAddress!, byteCount: count) }
        n += count
        (p + n).storeBytes(of: 13, as: UInt8.self)
        (p + n + 1).storeBytes(of: 10, as: UInt8.self)
        out.commitWrite(n + 2)
    }

    @inline(__always)
    public func bulk(_ bytes: [UInt8]) { bytes.withUnsafeBytes { bulk($0) } }

    @_disfavoredOverload  // literals take the StaticString version
    public func bulk(_ text: String) {
        var text = text
        text.withUTF8 { bulk(UnsafeRawBufferPointer($0)) }
    }

    public func bulk(_ text: StaticString) {
        bulk(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// A bulk string holding the decimal form of `value` (e.g. INCRBYFLOAT-style replies).
    public func bulkDecimal(_ value: Int64) {
        var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &scratch) { raw in
            let n = ByteBuffer.writeDecimal(value, to: raw.baseAddress!)
            bulk(UnsafeRawBufferPointer(start: raw.baseAddress!, count: n))
        }
    }

    /// A missing value: `$-1` in RESP2, `_` in RESP3.
    @inline(__always)
    public func nullBulk() { out.append(isRESP3 ? "_\r\n" : "$-1\r\n") }

    /// A missing array (BLPOP timeout, EXEC abort): `*-1` in RESP2, `_` in RESP3.
    @inline(__always)
    public func nullArray() { out.append(isRESP3 ? "_\r\n" : "*-1\r\n") }

    // MARK: Aggregates

    @inline(__always)
    public func arrayHeader(_ count: Int) { header(UInt8(ascii: "*"), count) }

    /// A map of `count` pairs: `%count` in RESP3, an array of 2×count in RESP2.
    @inline(__always)
    public func mapHeader(_ count: Int) {
        if isRESP3 { header(UInt8(ascii: "%"), count) } else { header(UInt8(ascii: "*"), count * 2) }
    }

    /// A set: `~count` in RESP3, an array in RESP2.
    @inline(__always)
    public func setHeader(_ count: Int) { header(isRESP3 ? UInt8(ascii: "~") : UInt8(ascii: "*"), count) }

    /// An out-of-band push: `>count` in RESP3, an array in RESP2.
    @inline(__always)
    public func pushHeader(_ count: Int) { header(isRESP3 ? UInt8(ascii: ">") : UInt8(ascii: "*"), count) }

    @inline(__always)
    public func emptyArray() { out.append("*0\r\n") }

    @inline(__always)
    private func header(_ marker: UInt8, _ count: Int) {
        out.reserve(24)
        let p = out.writePointer
        p.storeBytes(of: marker, as: UInt8.self)
        var n = 1 + ByteBuffer.writeDecimal(Int64(count), to: p + 1)
        (p + n).storeBytes(of: 13, as: UInt8.self)
        (p + n + 1).storeBytes(of: 10, as: UInt8.self)
        n += 2
        out.commitWrite(n)
    }

    // MARK: RESP3 scalars with RESP2 fallbacks

    /// A double: `,value` in RESP3, a bulk string in RESP2 (Redis 7.0 uses %.17g).
    public func double(_ value: Double) {
        Numbers.withFormattedDouble(value) { text in
            if isRESP3 {
                out.append(UInt8(ascii: ","))
                out.append(text)
                out.append("\r\n")
            } else {
                bulk(text)
            }
        }
    }

    /// A boolean: `#t`/`#f` in RESP3, `:1`/`:0` in RESP2.
    public func boolean(_ value: Bool) {
        if isRESP3 { out.append(value ? "#t\r\n" : "#f\r\n") } else { integer(value ? 1 : 0) }
    }

    /// Verbatim text (INFO, CLIENT LIST): `=len\r\ntxt:...` in RESP3, a bulk string in RESP2.
    public func verbatim(_ text: String, format: StaticString = "txt") {
        guard isRESP3 else { bulk(text); return }
        let body = Array(text.utf8)
        out.append(UInt8(ascii: "="))
        out.appendDecimal(Int64(body.count + 4))
        out.append("\r\n")
        out.append(format)
        out.append(UInt8(ascii: ":"))
        out.append(body)
        out.append("\r\n")
    }

    /// Raw protocol bytes, already encoded.
    @inline(__always)
    public func raw(_ bytes: StaticString) { out.append(bytes) }

    /// Status and error replies cannot carry CR or LF (Redis turns them into spaces).
    @inline(__always)
    static func hasLineBreak(_ text: StaticString) -> Bool {
        let p = text.utf8Start
        for i in 0..<text.utf8CodeUnitCount where p[i] == 13 || p[i] == 10 { return true }
        return false
    }

    static func sanitized(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 13 || $0 == 10 }) else { return text }
        return String(decoding: text.utf8.map { ($0 == 13 || $0 == 10) ? 32 : $0 }, as: UTF8.self)
    }
}
