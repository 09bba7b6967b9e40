import CJobdSystem
import JobdRESP

/// The on-disk unit of the append-only log: one batch per engine loop turn
/// (so a MULTI/EXEC, which runs within one turn, is never split).
///
///     *3\r\n$10\r\nJOBD.BATCH\r\n$10\r\n<length, 10 digits>\r\n$8\r\n<crc32c, 8 hex>\r\n
///     <length bytes of RESP commands: SELECT, SET, LPUSH, ...>
///
/// The header is itself a RESP command, so the file reads like a Redis AOF.
/// Its size is fixed, which lets the engine reserve it in front of the
/// payload and write header and payload with one write(2). The checksum is
/// CRC-32C of the payload, seeded with the length.
public enum BatchFormat {
    public static let headerSize = 52
    static let prefix: [UInt8] = Array("*3\r\n$10\r\nJOBD.BATCH\r\n$10\r\n".utf8)
    public static let maxPayload = 9_999_999_999

    public static func checksum(_ payload: UnsafeRawBufferPointer) -> UInt32 {
        cjobd_crc32c(UInt32(truncatingIfNeeded: payload.count), payload.baseAddress, payload.count)
    }

    /// Writes the header for `payload` into the 52 bytes at `header`.
    public static func writeHeader(at header: UnsafeMutableRawPointer, payload: UnsafeRawBufferPointer) {
        var p = header
        for byte in prefix { p.storeBytes(of: byte, as: UInt8.self); p += 1 }
        var length = payload.count
        for i in (0..<10).reversed() {
            (p + i).storeBytes(of: UInt8(48 + length % 10), as: UInt8.self)
            length /= 10
        }
        p += 10
        for byte in "\r\n$8\r\n".utf8 { p.storeBytes(of: byte, as: UInt8.self); p += 1 }
        let crc = checksum(payload)
        let hex = Array("0123456789abcdef".utf8)
        for i in 0..<8 {
            (p + i).storeBytes(of: hex[Int((crc >> (28 - 4 * UInt32(i))) & 0xF)], as: UInt8.self)
        }
        p += 8
        p.storeBytes(of: UInt8(13), as: UInt8.self)
        (p + 1).storeBytes(of: UInt8(10), as: UInt8.self)
    }

    /// A parsed header: the payload length and expected checksum, or nil if
    /// the bytes at `bytes` are not a well-formed header.
    public static func readHeader(_ bytes: UnsafeRawBufferPointer) -> (length: Int, crc: UInt32)? {
        guard bytes.count >= headerSize else { return nil }
        for i in 0..<prefix.count where bytes[i] != prefix[i] { return nil }
        var p = prefix.count
        var length = 0
        for _ in 0..<10 {
            let d = bytes[p] &- 48
            guard d <= 9 else { return nil }
            length = length * 10 + Int(d)
            p += 1
        }
        for byte in "\r\n$8\r\n".utf8 {
            guard bytes[p] == byte else { return nil }
            p += 1
        }
        var crc: UInt32 = 0
        for _ in 0..<8 {
            let c = bytes[p]
            let v: UInt8
            switch c {
            case 48...57: v = c - 48
            case 97...102: v = c - 87
            default: return nil
            }
            crc = crc << 4 | UInt32(v)
            p += 1
        }
        guard bytes[p] == 13, bytes[p + 1] == 10 else { return nil }
        return (length, crc)
    }

    /// True when `bytes` starts with a header whose payload follows in full and checks out.
    public static func validBatch(at bytes: UnsafeRawBufferPointer) -> Int? {
        guard let (length, crc) = readHeader(bytes), bytes.count - headerSize >= length else { return nil }
        let payload = UnsafeRawBufferPointer(rebasing: bytes[headerSize..<(headerSize + length)])
        return checksum(payload) == crc ? headerSize + length : nil
    }
}
