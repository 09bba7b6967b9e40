import CJobdSystem

/// Number parsing and formatting with Redis' exact rules, shared by the
/// protocol, the store and the config parser.
public enum Numbers {
    /// Redis' string2ll: optional '-', digits, no '+', no leading zeros, no
    /// spaces, within Int64. Returns nil otherwise.
    @inline(__always)
    public static func parseInt64(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        let count = bytes.count
        guard count > 0, count <= 20 else { return nil }
        var index = 0
        var negative = false
        if bytes[0] == UInt8(ascii: "-") {
            negative = true
            index = 1
            guard count > 1 else { return nil }
        }
        let first = bytes[index]
        if first == UInt8(ascii: "0") {
            // "0" alone; "-0" and leading zeros are rejected as in Redis.
            return (count == 1) ? 0 : nil
        }
        guard first >= UInt8(ascii: "1"), first <= UInt8(ascii: "9") else { return nil }
        var value: UInt64 = 0
        while index < count {
            let c = bytes[index]
            guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(c - UInt8(ascii: "0")))
            if o1 || o2 { return nil }
            value = a
            index += 1
        }
        if negative {
            if value > UInt64(Int64.max) + 1 { return nil }
            return value == UInt64(Int64.max) + 1 ? Int64.min : -Int64(value)
        }
        if value > UInt64(Int64.max) { return nil }
        return Int64(value)
    }

    public static func parseInt64(_ bytes: [UInt8]) -> Int64? {
        bytes.withUnsafeBytes { parseInt64($0) }
    }

    public static func parseInt64(_ text: String) -> Int64? {
        parseInt64(Array(text.utf8))
    }

    /// Redis' strtod-based double parsing (accepts "inf", rejects NaN and trailing junk).
    public static func parseDouble(_ bytes: UnsafeRawBufferPointer) -> Double? {
        var value = 0.0
        guard let base = bytes.baseAddress, bytes.count > 0 else { return nil }
        let ok = cjobd_parse_double(base.assumingMemoryBound(to: CChar.self), bytes.count, &value)
        return ok == 1 ? value : nil
    }

    /// A sorted-set range bound's number (Redis' zslParseRange rules: laxer than parseDouble).
    public static func parseRangeDouble(_ bytes: UnsafeRawBufferPointer) -> Double? {
        var value = 0.0
        let empty: StaticString = ""
        let base = bytes.baseAddress ?? UnsafeRawPointer(empty.utf8Start)
        return cjobd_parse_range_double(base.assumingMemoryBound(to: CChar.self), bytes.count, &value) == 1 ? value : nil
    }

    public static func parseDouble(_ text: String) -> Double? {
        Array(text.utf8).withUnsafeBytes { parseDouble($0) }
    }

    /// A double as Redis 7.0 formats it in replies ("%.17g", "inf", "-inf").
    public static func formatDouble(_ value: Double) -> [UInt8] {
        withFormattedDouble(value) { Array($0) }
    }

    /// Calls `body` with the text of `value` in a stack buffer (no allocation: replies with scores are hot).
    @inline(__always)
    public static func withFormattedDouble<R>(_ value: Double, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        if value.isInfinite {
            let text: StaticString = value > 0 ? "inf" : "-inf"
            return body(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer in
            let n = cjobd_format_double(value, buffer.baseAddress!, 64)
            return body(UnsafeRawBufferPointer(start: buffer.baseAddress!, count: Int(n)))
        }
    }

    /// Outcome of INCRBYFLOAT arithmetic.
    public enum FloatIncrement {
        case value([UInt8])
        case currentNotFloat, incrementNotFloat, notFinite
    }

    /// INCRBYFLOAT: long double arithmetic and formatting as Redis does.
    public static func incrementFloat(current: [UInt8]?, by increment: UnsafeRawBufferPointer) -> FloatIncrement {
        var out = [UInt8](repeating: 0, count: 5200)
        let incBase = increment.baseAddress?.assumingMemoryBound(to: CChar.self)
        let n: Int32 = out.withUnsafeMutableBytes { outRaw in
            let outPtr = outRaw.baseAddress!.assumingMemoryBound(to: CChar.self)
            // An empty increment still needs a valid pointer for the C side.
            let emptyPtr: StaticString = ""
            let inc = incBase ?? UnsafeRawPointer(emptyPtr.utf8Start).assumingMemoryBound(to: CChar.self)
            if let current {
                if current.isEmpty {
                    return -1
                }
                return current.withUnsafeBytes { cur in
                    cjobd_incr_long_double(cur.baseAddress!.assumingMemoryBound(to: CChar.self), cur.count,
                                           inc, increment.count, outPtr, 5200)
                }
            }
            return cjobd_incr_long_double(nil, 0, inc, increment.count, outPtr, 5200)
        }
        switch n {
        case -1: return .currentNotFloat
        case -2: return .incrementNotFloat
        case ..<0: return .notFinite
        default: return .value(Array(out[0..<Int(n)]))
        }
    }

    /// Outcome of parsing a blocking timeout given in seconds.
    public enum TimeoutParse: Equatable { case millis(Int64), notFloat, outOfRange }

    /// BLPOP-style timeout: seconds as a float, rounded up to milliseconds.
    public static func parseTimeoutSeconds(_ bytes: UnsafeRawBufferPointer) -> TimeoutParse {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return .notFloat }
        var millis: Int64 = 0
        switch cjobd_parse_timeout_seconds(base.assumingMemoryBound(to: CChar.self), bytes.count, &millis) {
        case 0: return .millis(millis)
        case 2: return .outOfRange
        default: return .notFloat
        }
    }
}
