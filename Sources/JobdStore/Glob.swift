/// Redis' glob matching (stringmatchlen): `*`, `?`, `[abc]`, `[^a-z]`, `\x`.
/// Used by KEYS, SCAN MATCH, CONFIG GET and later pub/sub patterns.
public enum Glob {
    public static func matches(_ pattern: UnsafeRawBufferPointer, _ string: UnsafeRawBufferPointer,
                               ignoreCase: Bool = false) -> Bool {
        var skipLongerMatches = false
        return match(pattern, 0, string, 0, ignoreCase, &skipLongerMatches, nesting: 0)
    }

    public static func matches(_ pattern: String, _ string: String, ignoreCase: Bool = false) -> Bool {
        Array(pattern.utf8).withUnsafeBytes { p in
            Array(string.utf8).withUnsafeBytes { s in matches(p, s, ignoreCase: ignoreCase) }
        }
    }

    @inline(__always)
    private static func lower(_ c: Int) -> Int { (c >= 65 && c <= 90) ? c + 32 : c }

    /// The byte as C's signed char, which is how Redis compares ranges.
    @inline(__always)
    private static func signed(_ b: UInt8) -> Int { Int(Int8(bitPattern: b)) }

    private static func match(_ pattern: UnsafeRawBufferPointer, _ pStart: Int,
                              _ string: UnsafeRawBufferPointer, _ sStart: Int,
                              _ nocase: Bool, _ skipLongerMatches: inout Bool, nesting: Int) -> Bool {
        // Deep recursion comes only from many '*'; Redis 7.2 bounds it the same way.
        if nesting > 1000 { return false }
        var p = pStart
        var s = sStart
        let pEnd = pattern.count
        let sEnd = string.count
        @inline(__always) func pat(_ i: Int) -> UInt8 { i < pEnd ? pattern[i] : 0 }

        while p < pEnd && s < sEnd {
            switch pattern[p] {
            case UInt8(ascii: "*"):
                while p < pEnd && pat(p + 1) == UInt8(ascii: "*") { p += 1 }
                if pEnd - p == 1 { return true }
                while s < sEnd {
                    if match(pattern, p + 1, string, s, nocase, &skipLongerMatches, nesting: nesting + 1) { return true }
                    if skipLongerMatches { return false }
                    s += 1
                }
                skipLongerMatches = true
                return false
            case UInt8(ascii: "?"):
                s += 1
            case UInt8(ascii: "["):
                p += 1
                let negate = pat(p) == UInt8(ascii: "^")
                if negate { p += 1 }
                var matched = false
                while true {
                    if pat(p) == UInt8(ascii: "\\") && pEnd - p >= 2 {
                        p += 1
                        if pattern[p] == string[s] { matched = true }
                    } else if pat(p) == UInt8(ascii: "]") {
                        break
                    } else if p >= pEnd {
                        p -= 1
                        break
                    } else if pEnd - p >= 3 && pattern[p + 1] == UInt8(ascii: "-") {
                        var start = signed(pattern[p])
                        var end = signed(pattern[p + 2])
                        var c = signed(string[s])
                        if start > end { swap(&start, &end) }
                        if nocase { start = lower(start); end = lower(end); c = lower(c) }
                        p += 2
                        if c >= start && c <= end { matched = true }
                    } else if nocase {
                        if lower(signed(pattern[p])) == lower(signed(string[s])) { matched = true }
                    } else if pattern[p] == string[s] {
                        matched = true
                    }
                    p += 1
                }
                if negate { matched = !matched }
                if !matched { return false }
                s += 1
            default:
                if pattern[p] == UInt8(ascii: "\\") && pEnd - p >= 2 { p += 1 }
                if nocase {
                    if lower(signed(pattern[p])) != lower(signed(string[s])) { return false }
                } else if pattern[p] != string[s] {
                    return false
                }
                s += 1
            }
            p += 1
            if s == sEnd {
                while pat(p) == UInt8(ascii: "*") { p += 1 }
                break
            }
        }
        return p >= pEnd && s == sEnd
    }
}
