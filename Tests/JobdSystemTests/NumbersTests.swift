import Testing
import JobdSystem

@Suite struct NumbersTests {
    @Test(arguments: ["0", "-1", "42", "9223372036854775807", "-9223372036854775808"])
    func validIntegersParse(text: String) {
        #expect(Numbers.parseInt64(text) == Int64(text))
    }

    @Test(arguments: ["", "-", "01", "-0", "+1", " 1", "1 ", "9223372036854775808", "-9223372036854775809",
                      "1.5", "abc", "99999999999999999999"])
    func redisRejectsTheseIntegers(text: String) {
        #expect(Numbers.parseInt64(text) == nil)
    }

    @Test func doublesParseAsRedisDoes() {
        #expect(Numbers.parseDouble("1.5") == 1.5)
        #expect(Numbers.parseDouble("1e3") == 1000)
        #expect(Numbers.parseDouble("inf") == .infinity)
        #expect(Numbers.parseDouble("-inf") == -.infinity)
        for bad in ["", "nan", " 1", "1x", "1e999999"] { #expect(Numbers.parseDouble(bad) == nil, "\(bad)") }
    }

    private func incr(_ current: String?, _ by: String) -> String {
        let result = Array(by.utf8).withUnsafeBytes { Numbers.incrementFloat(current: current.map { Array($0.utf8) }, by: $0) }
        switch result {
        case let .value(bytes): return String(decoding: bytes, as: UTF8.self)
        case .currentNotFloat: return "current-not-float"
        case .incrementNotFloat: return "increment-not-float"
        case .notFinite: return "not-finite"
        }
    }

    @Test func incrByFloatFormatsLikeRedis() {
        #expect(incr("10.5", "0.1") == "10.6")
        #expect(incr("3.0e3", "1") == "3001")
        #expect(incr("5.0e3", "2.0e2") == "5200")
        #expect(incr(nil, "1.5") == "1.5")
        #expect(incr("-1", "1") == "0")
        #expect(incr("abc", "1") == "current-not-float")
        #expect(incr("", "1") == "current-not-float")
        #expect(incr("1", "x") == "increment-not-float")
        #expect(incr("1", "inf") == "not-finite")
    }

    @Test func blockingTimeoutsRoundUpToMilliseconds() {
        func parse(_ s: String) -> Numbers.TimeoutParse { Array(s.utf8).withUnsafeBytes { Numbers.parseTimeoutSeconds($0) } }
        #expect(parse("0.1") == .millis(100))
        #expect(parse("1") == .millis(1000))
        #expect(parse("0.0001") == .millis(1))
        #expect(parse("-1") == .millis(-1000))
        #expect(parse("abc") == .notFloat)
        #expect(parse("") == .notFloat)
        #expect(parse("1e300") == .outOfRange)
    }

    @Test func formattedDoublesMatchRedis70() {
        #expect(String(decoding: Numbers.formatDouble(0.1), as: UTF8.self) == "0.10000000000000001")
        #expect(String(decoding: Numbers.formatDouble(3), as: UTF8.self) == "3")
        #expect(String(decoding: Numbers.formatDouble(-.infinity), as: UTF8.self) == "-inf")
    }
}
