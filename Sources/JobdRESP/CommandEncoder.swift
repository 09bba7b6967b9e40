/// Encodes commands (not replies) as RESP multibulk: what the append-only
/// log stores, and what a client sends. Writes straight into a ByteBuffer.
public struct CommandEncoder {
    public let out: ByteBuffer

    @inline(__always)
    public init(out: ByteBuffer) { self.out = out }

    /// Starts a command of `count` arguments; follow with exactly `count` `argument` calls.
    @inline(__always)
    public func begin(_ count: Int) {
        out.append(UInt8(ascii: "*"))
        out.appendDecimal(Int64(count))
        out.append("\r\n")
    }

    @inline(__always)
    public func argument(_ bytes: UnsafeRawBufferPointer) {
        out.reserve(bytes.count + 26)
        out.append(UInt8(ascii: "$"))
        out.appendDecimal(Int64(bytes.count))
        out.append("\r\n")
        out.append(bytes)
        out.append("\r\n")
    }

    public func argument(_ bytes: [UInt8]) { bytes.withUnsafeBytes { argument($0) } }

    public func argument(_ text: StaticString) {
        argument(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    public func argument(_ value: Int64) {
        var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &scratch) { raw in
            let n = ByteBuffer.writeDecimal(value, to: raw.baseAddress!)
            argument(UnsafeRawBufferPointer(start: raw.baseAddress!, count: n))
        }
    }

    public func argument(_ text: String) {
        var text = text
        text.withUTF8 { argument(UnsafeRawBufferPointer($0)) }
    }

    /// The whole command from a parsed request.
    public func command(_ arguments: Arguments) {
        begin(arguments.count)
        for i in 0..<arguments.count { argument(arguments[i]) }
    }
}
