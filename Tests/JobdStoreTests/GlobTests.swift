import Testing
import JobdStore

@Suite struct GlobTests {
    @Test(arguments: [
        // Redis' matcher says "*" does not match "" (KEYS and SCAN treat a lone "*" as "all" before matching).
        ("*", "anything", true), ("*", "", false), ("", "", true), ("", "a", false), ("a*", "a", true),
        ("h?llo", "hello", true), ("h?llo", "hllo", false),
        ("h*llo", "hllo", true), ("h*llo", "heeeello", true), ("h*llo", "hellx", false),
        ("h[ae]llo", "hallo", true), ("h[ae]llo", "hillo", false),
        ("h[^e]llo", "hallo", true), ("h[^e]llo", "hello", false),
        ("h[a-b]llo", "hbllo", true), ("h[a-b]llo", "hcllo", false), ("h[b-a]llo", "hbllo", true),
        ("h\\*llo", "h*llo", true), ("h\\*llo", "hello", false),
        ("[", "[", false), ("*[", "a[", false), ("a*b*c", "aXbYc", true), ("a*b*c", "aXbY", false),
        ("[\\]]", "]", true), ("*.txt", "notes.txt", true), ("user:*:name", "user:42:name", true),
    ])
    func matchesLikeRedis(pattern: String, string: String, expected: Bool) {
        #expect(Glob.matches(pattern, string) == expected)
    }

    @Test func caseCanBeIgnored() {
        #expect(Glob.matches("HeLLo*", "hello world", ignoreCase: true))
        #expect(!Glob.matches("HeLLo*", "hello world"))
        #expect(Glob.matches("[A-C]x", "bx", ignoreCase: true))
    }

    @Test func manyStarsAgainstALongStringFinishQuicklyWithoutDeepRecursion() {
        let pattern = String(repeating: "*a", count: 2000) + "b"
        let string = String(repeating: "a", count: 5000)
        #expect(!Glob.matches(pattern, string))
    }
}
