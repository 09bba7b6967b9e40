import Testing
import JobdSystem

private func incr(_ current: String?, _ by: String) -> String {
    let result = Array(by.utf8).withUnsafeBytes { Numbers.incrementFloat(current: current.map { Array($0.utf8) }, by: $0) }
    switch result {
    case let .value(bytes): return String(decoding: bytes, as: UTF8.self)
    case .currentNotFloat: return "current-not-float"
    case .incrementNotFloat: return "increment-not-float"
    case .notFinite: return "not-finite"
    }
}

private func timeout(_ s: String) -> Numbers.TimeoutParse {
    Array(s.utf8).withUnsafeBytes { Numbers.parseTimeoutSeconds($0) }
}

private func formatted(_ value: Double) -> String { String(decoding: Numbers.formatDouble(value), as: UTF8.self) }

@Suite struct NumbersTests {
    // MARK: Integers (Redis' string2ll)

    @Test(arguments: ["0", "-1", "1", "42", "-42", "1000000", "9223372036854775807", "-9223372036854775808",
                      "9223372036854775806", "-9223372036854775807"])
    func validIntegersParse(text: String) throws {
        let expected = try #require(Int64(text))
        #expect(Numbers.parseInt64(text) == expected)
        #expect(Numbers.parseInt64(Array(text.utf8)) == expected)
        #expect(Array(text.utf8).withUnsafeBytes { Numbers.parseInt64($0) } == expected)
    }

    @Test(arguments: ["", "-", "01", "00", "-0", "-01", "+1", "+0", " 1", "1 ", "\t1", "1\n", "9223372036854775808",
                      "-9223372036854775809", "18446744073709551616", "99999999999999999999", "123456789012345678901",
                      "1.5", "1e3", "abc", "1a", "0x10", "--1", "1-", "١"])
    func redisRejectsTheseIntegers(text: String) {
        #expect(Numbers.parseInt64(text) == nil)
    }

    @Test func integersRoundTripThroughTheirDecimalForm() {
        var state: UInt64 = 0x1234_5678
        for shift in 0..<64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let value = Int64(bitPattern: state) >> Int64(shift)
            #expect(Numbers.parseInt64(String(value)) == value)
        }
    }

    // MARK: Doubles

    @Test(arguments: [("1.5", 1.5), ("1e3", 1000.0), ("-2", -2.0), ("0", 0.0), (".5", 0.5), ("5.", 5.0),
                      ("inf", Double.infinity), ("-inf", -Double.infinity), ("+inf", Double.infinity),
                      ("Infinity", Double.infinity), ("1E-3", 0.001), ("0x10", 16.0)])
    func doublesParseAsRedisDoes(text: String, value: Double) {
        #expect(Numbers.parseDouble(text) == value)
    }

    @Test(arguments: ["", "nan", "NaN", "-nan", " 1", "1 ", "1x", "x1", "1e999999", "-1e999999", "1e-400", "1,5", "e3", "."])
    func redisRejectsTheseDoubles(text: String) {
        #expect(Numbers.parseDouble(text) == nil)
    }

    @Test func aDoubleIsReadOnlyUpToItsLength() {
        // Bytes after the argument (the rest of an input buffer) must not be read.
        let bytes = Array("12345".utf8)
        #expect(bytes.withUnsafeBytes { Numbers.parseDouble(UnsafeRawBufferPointer(rebasing: $0[0..<2])) } == 12)
        #expect(Array("1\u{0}2".utf8).withUnsafeBytes { Numbers.parseDouble($0) } == nil)
    }

    @Test(arguments: [(0.1, "0.10000000000000001"), (3.0, "3"), (-0.5, "-0.5"), (1e100, "1e+100"),
                      (Double.infinity, "inf"), (-Double.infinity, "-inf"), (2.5e-7, "2.4999999999999999e-07")])
    func formattedDoublesMatchRedis70(value: Double, text: String) {
        #expect(formatted(value) == text)
    }

    // MARK: INCRBYFLOAT

    @Test(arguments: [
        ("10.5", "0.1", "10.6"),
        ("3.0e3", "1", "3001"),
        ("5.0e3", "2.0e2", "5200"),
        ("5", "5", "10"),
        ("-1", "1", "0"),
        ("1", "-1.5", "-0.5"),
        ("1.10", "0", "1.1"),
        ("-0.0", "0", "0"),
        ("0", "-0.0", "0"),
        ("-0.0", "-0.0", "0"),
        ("10", "-0.000000000000001", "9.999999999999999"),
        ("17179869184", "1.5", "17179869185.5"),
    ] as [(String?, String, String)])
    func incrByFloatFormatsLikeRedis(current: String?, increment: String, result: String) {
        #expect(incr(current, increment) == result)
    }

    @Test func aMissingValueCountsAsZero() {
        #expect(incr(nil, "1.5") == "1.5")
        #expect(incr(nil, "-3") == "-3")
        #expect(incr(nil, "1e2") == "100")
    }

    @Test func incrByFloatRefusesNonFloatsAndNonFiniteResults() {
        #expect(incr("abc", "1") == "current-not-float")
        #expect(incr("", "1") == "current-not-float")
        #expect(incr(" 1", "1") == "current-not-float")
        #expect(incr("nan", "1") == "current-not-float")
        #expect(incr("1", "x") == "increment-not-float")
        #expect(incr("1", "") == "increment-not-float")
        #expect(incr("1", "1 ") == "increment-not-float")
        #expect(incr(nil, "abc") == "increment-not-float")
        #expect(incr("1", "inf") == "not-finite")
        #expect(incr("-inf", "1") == "not-finite")
        // Finite long doubles whose sum overflows.
        #expect(incr("1e4932", "1e4932") == "not-finite")
        #expect(incr("-1e4932", "-1e4932") == "not-finite")
    }

    @Test func incrByFloatWorksBeyondTheDoubleRange() {
        // Redis uses long double: 1e308 + 1e308 does not overflow there.
        let text = incr("1e308", "1e308")
        #expect(text.hasPrefix("19999999999999999999"))
        #expect(text.utf8.count == 309 && !text.contains("."))
    }

    // MARK: Blocking timeouts

    /// Expected outcomes as text, since `Numbers.TimeoutParse` is not Sendable (test arguments must be).
    @Test(arguments: [
        ("0", "0 ms"), ("0.1", "100 ms"), ("1", "1000 ms"), ("1.5", "1500 ms"), ("0.0001", "1 ms"), ("0.0011", "2 ms"),
        ("-1", "-1000 ms"), ("-0.5", "-500 ms"), ("1e3", "1000000 ms"),
        ("abc", "not a float"), ("", "not a float"), (" 1", "not a float"), ("1s", "not a float"), ("nan", "not a float"),
        ("1e300", "out of range"), ("inf", "out of range"),
    ])
    func blockingTimeoutsAreSecondsRoundedUpToMilliseconds(text: String, expected: String) {
        let outcome: String
        switch timeout(text) {
        case let .millis(ms): outcome = "\(ms) ms"
        case .notFloat: outcome = "not a float"
        case .outOfRange: outcome = "out of range"
        }
        #expect(outcome == expected)
        #expect(timeout(text) == timeout(text))
    }
}

@Suite struct SHA1Tests {
    @Test func knownDigests() {
        #expect(SHA1.hex("") == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(SHA1.hex("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(SHA1.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") == "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        #expect(SHA1.hex(String(repeating: "a", count: 1000)) == "291e9a6c66994949b57ba5e650361e98fc36b1ba")
        // 55, 56 and 64 bytes: the padding boundaries.
        #expect(SHA1.hex(String(repeating: "x", count: 55)) == "cef734ba81a024479e09eb5a75b6ddae62e6abf1")
    }

    @Test func redisScriptIdentity() {
        // redis-cli SCRIPT LOAD "return 1" answers this SHA.
        #expect(SHA1.hex("return 1") == "e0e1f9fabfc9d4800c877a703b823ac0578ff8db")
    }
}
