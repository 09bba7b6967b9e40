import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import JobdQueue

// MARK: - Helpers, independent of the implementation (libc timegm/gmtime_r)

/// Milliseconds since the epoch of a UTC civil time.
private func utc(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0,
                 _ second: Int = 0, ms: Int = 0) -> Int64 {
    var t = tm()
    t.tm_year = Int32(year - 1900)
    t.tm_mon = Int32(month - 1)
    t.tm_mday = Int32(day)
    t.tm_hour = Int32(hour)
    t.tm_min = Int32(minute)
    t.tm_sec = Int32(second)
    return Int64(timegm(&t)) * 1000 + Int64(ms)
}

/// The UTC broken-down time of a (non-negative) ms timestamp.
private func fields(_ ms: Int64) -> tm {
    var seconds = time_t(ms / 1000)
    var out = tm()
    _ = gmtime_r(&seconds, &out)
    return out
}

private func schedule(_ spec: String) throws -> CronSchedule { try CronSchedule(parsing: spec) }

private func next(_ spec: String, after ms: Int64) throws -> Int64? { try schedule(spec).nextRun(after: ms) }

/// A mask with exactly the given bits set.
private func bits(_ values: some Sequence<Int>) -> UInt64 { values.reduce(0) { $0 | 1 << UInt64($1) } }

@Suite struct CronScheduleTests {
    // MARK: Parsing

    @Test func theTestHelperAgreesWithKnownEpochValues() {
        #expect(utc(1970, 1, 1) == 0)
        #expect(utc(2026, 1, 1) == 1_767_225_600_000)
        #expect(fields(utc(2026, 1, 1)).tm_wday == 4, "2026-01-01 is a Thursday")
    }

    @Test func everyFieldSyntaxFormParsesToTheRightValues() throws {
        #expect(try schedule("* * * * *").minutes == bits(0...59))
        #expect(try schedule("* * * * *").hours == bits(0...23))
        #expect(try schedule("* * * * *").daysOfMonth == bits(1...31))
        #expect(try schedule("* * * * *").months == bits(1...12))
        #expect(try schedule("* * * * *").daysOfWeek == bits(0...6))
        #expect(try schedule("7 * * * *").minutes == bits([7]))
        #expect(try schedule("10-13 * * * *").minutes == bits(10...13))
        #expect(try schedule("*/15 * * * *").minutes == bits([0, 15, 30, 45]))
        #expect(try schedule("* */7 * * *").hours == bits([0, 7, 14, 21]))
        #expect(try schedule("* * */10 * *").daysOfMonth == bits([1, 11, 21, 31]), "*/n starts at the field minimum")
        #expect(try schedule("10-20/5 * * * *").minutes == bits([10, 15, 20]))
        #expect(try schedule("50/3 * * * *").minutes == bits([50, 53, 56, 59]), "n/s runs to the field maximum")
        #expect(try schedule("1,5-6,*/30 * * * *").minutes == bits([0, 1, 5, 6, 30]))
        #expect(try schedule("0 0 1 1 *").minutes == bits([0]))
        #expect(try schedule("* * 31 * *").daysOfMonth == bits([31]))
        #expect(try schedule("* * * 12 *").months == bits([12]))
        #expect(try schedule("* * * */100 *").months == bits([1]), "a step beyond the range matches only the start")
    }

    @Test func monthAndWeekdayNamesAreCaseInsensitive() throws {
        #expect(try schedule("* * * JAN *").months == bits([1]))
        #expect(try schedule("* * * dec *").months == bits([12]))
        #expect(try schedule("* * * Mar-Jun *").months == bits(3...6))
        #expect(try schedule("* * * jan-dec/3 *").months == bits([1, 4, 7, 10]))
        #expect(try schedule("* * * * SUN").daysOfWeek == bits([0]))
        #expect(try schedule("* * * * mon-fri").daysOfWeek == bits(1...5))
        #expect(try schedule("* * * * Sat,sun").daysOfWeek == bits([0, 6]))
    }

    @Test func dayOfWeekSevenIsSundayLikeZero() throws {
        #expect(try schedule("* * * * 7").daysOfWeek == bits([0]))
        #expect(try schedule("* * * * 0").daysOfWeek == bits([0]))
        #expect(try schedule("* * * * 5-7").daysOfWeek == bits([0, 5, 6]))
        #expect(try schedule("* * * * 1/2").daysOfWeek == bits([0, 1, 3, 5]), "1/2 runs to 7, which is Sunday")
    }

    @Test func runsOfSpacesAndTabsSeparateFieldsAndTheSourceIsKeptVerbatim() throws {
        let spec = "  */5\t\t1  * *\t MON "
        let s = try schedule(spec)
        #expect(s.source == spec)
        #expect(s.minutes == bits(stride(from: 0, through: 55, by: 5)))
        #expect(s.hours == bits([1]))
        #expect(s.daysOfWeek == bits([1]))
        #expect(try schedule("0 0 * * 1") == schedule("0 0 * * 1"))
        #expect(try schedule("0 0 * * 1") != schedule("0 0 * * 2"))
    }

    @Test(arguments: [
        ("@yearly", "0 0 1 1 *"), ("@annually", "0 0 1 1 *"), ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"), ("@daily", "0 0 * * *"), ("@midnight", "0 0 * * *"),
        ("@hourly", "0 * * * *"), ("@DAILY", "0 0 * * *"), (" @weekly ", "0 0 * * 0"),
    ])
    func aliasesExpandToTheirFiveFieldSpecs(alias: String, expansion: String) throws {
        let a = try schedule(alias), e = try schedule(expansion)
        #expect(a.source == alias)
        #expect(a.minutes == e.minutes && a.hours == e.hours && a.daysOfMonth == e.daysOfMonth)
        #expect(a.months == e.months && a.daysOfWeek == e.daysOfWeek)
        #expect(a.domRestricted == e.domRestricted && a.dowRestricted == e.dowRestricted)
    }

    @Test(arguments: [
        ("61 * * * *", #"minute field "61" is out of range 0-59"#),
        ("10-70 * * * *", #"minute field "70" is out of range 0-59"#),
        ("99999999999999999999 * * * *", #"minute field "99999999999999999999" is out of range 0-59"#),
        ("* 24 * * *", #"hour field "24" is out of range 0-23"#),
        ("* * 0 * *", #"day-of-month field "0" is out of range 1-31"#),
        ("* * 32 * *", #"day-of-month field "32" is out of range 1-31"#),
        ("* * * 13 *", #"month field "13" is out of range 1-12"#),
        ("* * * 0 *", #"month field "0" is out of range 1-12"#),
        ("* * * * 8", #"day-of-week field "8" is out of range 0-7"#),
        ("* * * *", "expected 5 fields (minute hour day-of-month month day-of-week), got 4"),
        ("* * * * * *", "expected 5 fields (minute hour day-of-month month day-of-week), got 6"),
        ("", "expected 5 fields (minute hour day-of-month month day-of-week), got 0"),
        (" \t ", "expected 5 fields (minute hour day-of-month month day-of-week), got 0"),
        ("@fortnightly", #"unknown alias "@fortnightly""#),
        ("@every 5m", #"alias "@every" takes no other fields"#),
        ("@daily *", #"alias "@daily" takes no other fields"#),
        ("* */0 * * *", #"bad step "*/0" in hour field"#),
        ("1-5/0 * * * *", #"bad step "1-5/0" in minute field"#),
        ("*/x * * * *", #"bad step "*/x" in minute field"#),
        ("*/ * * * *", #"bad step "*/" in minute field"#),
        ("*/-1 * * * *", #"bad step "*/-1" in minute field"#),
        ("1/2/3 * * * *", #"bad step "1/2/3" in minute field"#),
        ("1,,2 * * * *", #"empty item in minute field "1,,2""#),
        ("* * * * 1,", #"empty item in day-of-week field "1,""#),
        (",5 * * * *", #"empty item in minute field ",5""#),
        ("5-3 * * * *", #"reversed range "5-3" in minute field"#),
        ("* * * * FRI-MON", #"reversed range "FRI-MON" in day-of-week field"#),
        ("* * * DEC-JAN *", #"reversed range "DEC-JAN" in month field"#),
        ("x * * * *", #"bad value "x" in minute field"#),
        ("* 1.5 * * *", #"bad value "1.5" in hour field"#),
        ("* * * FOO *", #"bad value "FOO" in month field"#),
        ("* * * MON *", #"bad value "MON" in month field"#),
        ("* * JAN * *", #"bad value "JAN" in day-of-month field"#),
        ("* * * * +1", #"bad value "+1" in day-of-week field"#),
        ("1- * * * *", #"bad range "1-" in minute field"#),
        ("-1 * * * *", #"bad range "-1" in minute field"#),
        ("1-2-3 * * * *", #"bad range "1-2-3" in minute field"#),
        ("*-5 * * * *", #"bad value "*" in minute field"#),
    ])
    func badSpecsAreRejectedWithAMessageNamingTheBadPart(spec: String, message: String) {
        #expect(throws: CronSpecError(message: message)) { try CronSchedule(parsing: spec) }
    }

    @Test func fieldErrorsNameTheirField() {
        let cases = [("61 * * * *", "minute"), ("* 99 * * *", "hour"), ("* * x * *", "day-of-month"),
                     ("* * * 1-13 *", "month"), ("* * * * */0", "day-of-week")]
        for (spec, field) in cases {
            do {
                _ = try CronSchedule(parsing: spec)
                Issue.record("\(spec) was accepted")
            } catch {
                #expect(error.message.contains("\(field) field"), "\(error.message)")
            }
        }
    }

    // MARK: nextRun

    @Test func nextRunIsStrictlyAfterAndOnAMinuteBoundary() throws {
        let t = utc(2026, 1, 1)
        #expect(try next("* * * * *", after: t) == utc(2026, 1, 1, 0, 1), "a time exactly on a match gives the next one")
        #expect(try next("* * * * *", after: t - 1) == t)
        #expect(try next("* * * * *", after: utc(2026, 1, 1, 0, 0, 30, ms: 500)) == utc(2026, 1, 1, 0, 1))
        #expect(try next("* * * * *", after: utc(2026, 1, 1, 0, 0, 59, ms: 999)) == utc(2026, 1, 1, 0, 1))
        #expect(try next("0 0 * * *", after: t) == utc(2026, 1, 2))
        #expect(try next("0 0 * * *", after: t + 1) == utc(2026, 1, 2), "a millisecond past the match still waits a day")
    }

    @Test func everyFifteenMinutesCrossesTheHour() throws {
        #expect(try next("*/15 * * * *", after: utc(2026, 1, 1)) == utc(2026, 1, 1, 0, 15))
        #expect(try next("*/15 * * * *", after: utc(2026, 1, 1, 0, 14, 59)) == utc(2026, 1, 1, 0, 15))
        #expect(try next("*/15 * * * *", after: utc(2026, 1, 1, 0, 45)) == utc(2026, 1, 1, 1, 0))
        #expect(try next("*/15 * * * *", after: utc(2026, 1, 1, 23, 50)) == utc(2026, 1, 2))
    }

    @Test func nextRunCrossesMinuteHourAndDayBoundaries() throws {
        #expect(try next("30 * * * *", after: utc(2026, 1, 1, 10, 31)) == utc(2026, 1, 1, 11, 30))
        #expect(try next("30 * * * *", after: utc(2026, 1, 1, 10, 29)) == utc(2026, 1, 1, 10, 30))
        #expect(try next("0 9 * * *", after: utc(2026, 1, 1, 10)) == utc(2026, 1, 2, 9))
        #expect(try next("59 23 * * *", after: utc(2026, 1, 1, 23, 59)) == utc(2026, 1, 2, 23, 59))
        #expect(try next("5 10-12 * * *", after: utc(2026, 1, 1, 10, 30)) == utc(2026, 1, 1, 11, 5))
        #expect(try next("5 10-12 * * *", after: utc(2026, 1, 1, 12, 5)) == utc(2026, 1, 2, 10, 5))
        #expect(try next("@hourly", after: utc(2026, 1, 1, 10, 0, 0, ms: 1)) == utc(2026, 1, 1, 11))
    }

    @Test func nextRunHandlesMonthEnds() throws {
        #expect(try next("0 0 * * *", after: utc(2026, 1, 31, 12)) == utc(2026, 2, 1))
        #expect(try next("0 12 * * *", after: utc(2026, 2, 28, 13)) == utc(2026, 3, 1, 12), "2026 is not a leap year")
        #expect(try next("0 12 * * *", after: utc(2028, 2, 28, 13)) == utc(2028, 2, 29, 12), "2028 is")
        #expect(try next("0 0 31 * *", after: utc(2026, 1, 31)) == utc(2026, 3, 31), "February has no 31st")
        #expect(try next("0 0 31 * *", after: utc(2026, 3, 31)) == utc(2026, 5, 31), "April has no 31st")
        #expect(try next("0 0 31 * *", after: utc(2026, 7, 31)) == utc(2026, 8, 31))
        #expect(try next("@monthly", after: utc(2026, 4, 15)) == utc(2026, 5, 1))
    }

    @Test func februaryTwentyNinthComesOnlyInLeapYears() throws {
        #expect(try next("0 0 29 2 *", after: utc(2025, 3, 1)) == utc(2028, 2, 29))
        #expect(try next("0 0 29 2 *", after: utc(2028, 2, 29)) == utc(2032, 2, 29))
        #expect(try next("0 0 29 2 *", after: utc(2097, 3, 1)) == utc(2104, 2, 29), "2100 is not a leap year")
        #expect(try next("0 0 29 2 *", after: utc(2399, 3, 1)) == utc(2400, 2, 29), "2400 is")
    }

    @Test func nextRunCrossesTheYearEnd() throws {
        #expect(try next("* * * * *", after: utc(2026, 12, 31, 23, 59)) == utc(2027, 1, 1))
        #expect(try next("0 0 1 1 *", after: utc(2026, 12, 31, 23, 59)) == utc(2027, 1, 1))
        #expect(try next("@yearly", after: utc(2026, 1, 1)) == utc(2027, 1, 1))
        #expect(try next("0 0 * 1 *", after: utc(2026, 2, 1)) == utc(2027, 1, 1))
        #expect(try next("30 18 25 DEC *", after: utc(2026, 12, 26)) == utc(2027, 12, 25, 18, 30))
    }

    @Test func dayOfWeekPicksTheRightWeekdays() throws {
        // 2026-01-01 is a Thursday, so the first Monday is the 5th.
        let monday = try #require(try next("0 9 * * 1", after: utc(2026, 1, 1)))
        #expect(monday == utc(2026, 1, 5, 9))
        #expect(fields(monday).tm_wday == 1)
        #expect(try next("0 9 * * 1", after: monday) == utc(2026, 1, 12, 9))
        #expect(try next("0 9 * * MON", after: utc(2026, 1, 5, 8, 59)) == utc(2026, 1, 5, 9))
        #expect(try next("0 0 * * 0", after: utc(2026, 1, 1)) == utc(2026, 1, 4))
        #expect(try next("0 0 * * 7", after: utc(2026, 1, 1)) == utc(2026, 1, 4), "7 is Sunday too")
        #expect(try next("@weekly", after: utc(2026, 1, 4)) == utc(2026, 1, 11))
        #expect(try next("0 0 * * 1-5", after: utc(2026, 1, 2, 12)) == utc(2026, 1, 5), "the weekend is skipped")
    }

    @Test func restrictedDayOfMonthAndDayOfWeekMatchEither() throws {
        // The 13th, or any Friday: 2026-01-02 and 2026-01-09 are Fridays, the 13th a Tuesday.
        #expect(try next("0 0 13 * 5", after: utc(2026, 1, 1)) == utc(2026, 1, 2))
        #expect(try next("0 0 13 * 5", after: utc(2026, 1, 9)) == utc(2026, 1, 13))
        #expect(try next("0 0 13 * 5", after: utc(2026, 1, 13)) == utc(2026, 1, 16))
        // With one of them `*`, only the other counts.
        #expect(try next("0 0 13 * *", after: utc(2026, 1, 1)) == utc(2026, 1, 13))
        #expect(try next("0 0 * * 5", after: utc(2026, 1, 9)) == utc(2026, 1, 16))
        // As in Vixie cron, a field starting with `*` (here `*/2`) counts as unrestricted.
        #expect(try next("0 0 */2 * 5", after: utc(2026, 1, 2)) == utc(2026, 1, 9))
        #expect(try next("0 0 1-31 * 5", after: utc(2026, 1, 2)) == utc(2026, 1, 3), "1-31 is restricted: OR")
        // The month still has to match: Fridays or the 1st, in February only.
        #expect(try next("0 0 1 2 5", after: utc(2026, 1, 1)) == utc(2026, 2, 1))
        #expect(try next("0 0 1 2 5", after: utc(2026, 2, 1)) == utc(2026, 2, 6))
    }

    @Test func impossibleSpecsHaveNoNextRun() throws {
        #expect(try next("0 0 30 2 *", after: utc(2026, 1, 1)) == nil)
        #expect(try next("0 0 31 2 *", after: utc(2026, 1, 1)) == nil)
        #expect(try next("0 0 31 4,6,9,11 *", after: utc(2026, 1, 1)) == nil)
        // The OR rule makes it possible again: any Monday in February.
        #expect(try next("0 0 30 2 1", after: utc(2026, 1, 1)) == utc(2026, 2, 2))
    }

    @Test func zeroNegativeAndExtremeTimesDoNotCrash() throws {
        #expect(try next("0 0 1 1 *", after: 0) == utc(1971, 1, 1))
        #expect(try next("* * * * *", after: -1) == 0)
        #expect(try next("* * * * *", after: -60_001) == -60_000)
        #expect(try next("0 0 * * *", after: -1) == 0)
        #expect(try next("0 12 * * *", after: -86_400_000) == -43_200_000, "1969-12-31T12:00Z")
        #expect(utc(1969, 1, 1) < 0)
        #expect(try next("0 0 29 2 *", after: utc(1969, 1, 1)) == utc(1972, 2, 29))
        #expect(try next("0 0 29 2 *", after: utc(1900, 1, 1)) == utc(1904, 2, 29), "1900 is not a leap year")
        let early = try #require(try next("* * * * *", after: .min))
        #expect(early > .min && early % 60_000 == 0)
        #expect(try next("* * * * *", after: .max) == nil, "the answer would not fit in an Int64")
        #expect(try next("0 0 30 2 *", after: .min) == nil)
    }

    /// Random specs against a brute-force search that asks libc for the
    /// calendar fields of every candidate day and minute.
    @Test func randomSpecsAgreeWithABruteForceSearch() throws {
        var rng = SplitMix(state: 42)

        // A random field: its text, the values it allows, and whether it starts with `*`.
        func randomField(_ low: Int, _ high: Int) -> (String, Set<Int>, Bool) {
            switch Int.random(in: 0..<6, using: &rng) {
            case 0:
                return ("*", Set(low...high), true)
            case 1:
                let s = Int.random(in: 1...(high - low + 1), using: &rng)
                return ("*/\(s)", Set(stride(from: low, through: high, by: s)), true)
            case 2:
                let a = Int.random(in: low...high, using: &rng), b = Int.random(in: a...high, using: &rng)
                let s = Int.random(in: 1...3, using: &rng)
                return ("\(a)-\(b)/\(s)", Set(stride(from: a, through: b, by: s)), false)
            case 3:
                let a = Int.random(in: low...high, using: &rng), b = Int.random(in: a...high, using: &rng)
                return ("\(a)-\(b)", Set(a...b), false)
            default:
                let values = (0..<Int.random(in: 1...3, using: &rng)).map { _ in Int.random(in: low...high, using: &rng) }
                return (values.map(String.init).joined(separator: ","), Set(values), false)
            }
        }

        for _ in 0..<300 {
            let (mText, mins, _) = randomField(0, 59)
            let (hText, hrs, _) = randomField(0, 23)
            let (domText, doms, domStar) = randomField(1, 31)
            let (monText, mons, _) = randomField(1, 12)
            let (dowText, dowsRaw, dowStar) = randomField(0, 7)
            let dows = Set(dowsRaw.map { $0 == 7 ? 0 : $0 })
            let spec = "\(mText) \(hText) \(domText) \(monText) \(dowText)"
            let after = Int64.random(in: utc(2020, 1, 1)...utc(2032, 1, 1), using: &rng)

            func dayMatches(_ f: tm) -> Bool {
                guard mons.contains(Int(f.tm_mon) + 1) else { return false }
                let dom = doms.contains(Int(f.tm_mday)), dow = dows.contains(Int(f.tm_wday))
                if !domStar && !dowStar { return dom || dow }
                return domStar ? (dowStar || dow) : dom
            }
            var t = (after / 60_000 + 1) * 60_000
            let limit = utc(Int(fields(t).tm_year) + 1900 + 9, 1, 1)
            var expected: Int64? = nil
            while t < limit {
                let f = fields(t)
                if !dayMatches(f) {
                    t = (t / 86_400_000 + 1) * 86_400_000
                } else if hrs.contains(Int(f.tm_hour)) && mins.contains(Int(f.tm_min)) {
                    expected = t
                    break
                } else {
                    t += 60_000
                }
            }
            #expect(try next(spec, after: after) == expected, "\(spec) after \(after)")
        }
    }
}
