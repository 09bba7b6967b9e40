import Glibc

/// The hash of keys and members: a seeded 64-bit multiply-mix over 8-byte
/// words. The seed is random per process so that clients cannot choose keys
/// that all land in one bucket.
public enum ByteHash {
    nonisolated(unsafe) public static var seed: UInt64 = {
        var generator = SystemRandomNumberGenerator()
        return generator.next()
    }()

    @inline(__always)
    static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let product = a.multipliedFullWidth(by: b)
        return product.high ^ product.low
    }

    @inline(__always)
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let n = bytes.count
        var h = seed ^ (UInt64(n) &* 0xA076_1D64_78BD_642F)
        guard let p = bytes.baseAddress, n > 0 else { return mix(h, 0xE703_7ED1_A0B4_28DB) }
        var i = 0
        while i + 8 <= n {
            h = mix(h ^ p.loadUnaligned(fromByteOffset: i, as: UInt64.self), 0xE703_7ED1_A0B4_28DB)
            i += 8
        }
        if i < n {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while i < n {
                tail |= UInt64(p.load(fromByteOffset: i, as: UInt8.self)) << shift
                shift += 8
                i += 1
            }
            h = mix(h ^ tail, 0x8EBC_6AF0_9C88_C6E3)
        }
        return mix(h, 0x5899_65CC_7537_4CC3)
    }

    @inline(__always)
    public static func hash(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { hash($0) }
    }
}

/// Byte-wise equality of a stored key and an argument.
@inline(__always)
func bytesEqual(_ stored: [UInt8], _ probe: UnsafeRawBufferPointer) -> Bool {
    stored.withUnsafeBytes { s in
        s.count == probe.count && (s.count == 0 || memcmp(s.baseAddress!, probe.baseAddress!, s.count) == 0)
    }
}
