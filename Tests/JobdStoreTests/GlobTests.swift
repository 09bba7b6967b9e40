import Testing
import JobdSystem
import JobdStore

@Suite struct GlobTests {
    @Test(arguments: [
        // Redis' matcher says "*" does not match "" (KEYS and SCAN treat a lone "*" as "all" before matching).
        ("*", "anything", true), ("*", "", false), ("**", "x", true), ("", "", true), ("", "a", false), ("a", "", false),
        ("a*", "a", true), ("a*", "ab", true), ("a*", "ba", false), ("*a", "ba", true), ("*a*a*a", "aaa", true),
        ("?", "a", true), ("?", "", false), ("??", "a", false),
        ("h?llo", "hello", true), ("h?llo", "hllo", false),
        ("h*llo", "hllo", true), ("h*llo", "heeeello", true), ("h*llo", "hellx", false), ("h*llo", "hello world", false),
        ("[abc]", "b", true), ("[abc]", "d", false), ("[abc]", "", false), ("[abc]", "ab", false),
        ("[^a]", "a", false), ("[^a]", "b", true), ("[^abc]x", "dx", true),
        ("[a-c]", "b", true), ("[a-c]", "c", true), ("[a-c]", "d", false), ("[c-a]", "b", true), ("[c-a]", "d", false),
        ("[^a-c]", "d", true), ("[^a-c]", "a", false), ("[a-cx-z]", "y", true), ("[0-9]*", "7up", true),
        ("h[ae]llo", "hallo", true), ("h[ae]llo", "hillo", false),
        ("h[^e]llo", "hallo", true), ("h[^e]llo", "hello", false),
        ("h[a-b]llo", "hbllo", true), ("h[a-b]llo", "hcllo", false), ("h[b-a]llo", "hbllo", true),
        ("\\*", "*", true), ("\\*", "a", false), ("\\?", "?", true), ("\\?", "x", false), ("\\\\", "\\", true),
        ("h\\*llo", "h*llo", true), ("h\\*llo", "hello", false), ("a\\", "a\\", true),
        ("[\\]]", "]", true), ("[\\^a]", "^", true), ("[\\-]", "-", true), ("[]", "]", false), ("[^]", "z", true),
        // An unterminated class ends at the end of the pattern, as in Redis.
        ("[", "[", false), ("[a", "a", true), ("*[", "a[", false), ("[a-", "a", true),
        ("a*b*c", "aXbYc", true), ("a*b*c", "aXbY", false), ("a*b*c", "abcabc", true),
        ("*.txt", "notes.txt", true), ("*.txt", "notes.txt.gz", false), ("user:*:name", "user:42:name", true),
        ("queue:{*}", "queue:{emails}", true),
    ])
    func matchesLikeRedis(pattern: String, string: String, expected: Bool) {
        #expect(Glob.matches(pattern, string) == expected)
    }

    @Test func caseCanBeIgnored() {
        #expect(Glob.matches("HeLLo*", "hello world", ignoreCase: true))
        #expect(!Glob.matches("HeLLo*", "hello world"))
        #expect(Glob.matches("[A-C]x", "bx", ignoreCase: true))
        #expect(!Glob.matches("[A-C]x", "bx"))
        #expect(Glob.matches("h[^E]llo", "hallo", ignoreCase: true))
        #expect(!Glob.matches("h[^E]llo", "hello", ignoreCase: true))
        #expect(Glob.matches("[abc]", "B", ignoreCase: true))
        #expect(Glob.matches("maxmemory*", "MAXMEMORY-policy", ignoreCase: true))
    }

    @Test func binaryBytesMatchThemselves() {
        let pattern: [UInt8] = [0, 0xFF, UInt8(ascii: "*"), 0x80]
        let string: [UInt8] = [0, 0xFF, 1, 2, 3, 0x80]
        #expect(pattern.withUnsafeBytes { p in string.withUnsafeBytes { Glob.matches(p, $0) } })
        #expect(!pattern.withUnsafeBytes { p in [0, 0xFE, 0x80].withUnsafeBytes { Glob.matches(p, $0) } })
    }

    @Test func manyStarsAgainstALongStringFinishQuicklyWithoutDeepRecursion() {
        let start = Clock.monotonicNanos()
        let pattern = String(repeating: "*a", count: 2000) + "b"
        let string = String(repeating: "a", count: 5000)
        #expect(!Glob.matches(pattern, string))
        #expect(!Glob.matches(String(repeating: "*a", count: 2000), String(repeating: "a", count: 1999) + "b"))
        #expect(!Glob.matches(String(repeating: "a*", count: 50) + "b", String(repeating: "a", count: 10_000)))
        // Many stars that can match still do.
        #expect(Glob.matches(String(repeating: "*a", count: 300), String(repeating: "ba", count: 400)))
        #expect(Clock.monotonicNanos() - start < 2_000_000_000)
    }
}
