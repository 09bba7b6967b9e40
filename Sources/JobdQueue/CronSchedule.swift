// Cron schedules for CRON.ADD and the config file: the classic 5-field spec
// (minute hour day-of-month month day-of-week) plus the @-aliases, always in
// UTC, so there are no time zones and no DST gaps or repeats to handle.

/// Why a cron spec was refused; the server replies `-ERR invalid cron spec: <message>`.
public struct CronSpecError: Error, Equatable {
    public let message: String
}

/// A parsed cron spec. Each field is a bit mask: bit `n` set means value `n`
/// matches (day-of-week uses bits 0-6, with 7 folded onto 0 = Sunday).
public struct CronSchedule: Equatable, Sendable {
    /// The spec as given, for CRON.LIST.
    public let source: String
    let minutes: UInt64
    let hours: UInt64
    let daysOfMonth: UInt64
    let months: UInt64
    let daysOfWeek: UInt64
    /// Vixie cron's day rule: when both day fields are restricted a day
    /// matches if either does; a field starting with `*` (also `*/n`) is
    /// unrestricted and leaves the decision to the other one.
    let domRestricted: Bool
    let dowRestricted: Bool

    public init(parsing spec: String) throws(CronSpecError) {
        source = spec
        var tokens = spec.split(whereSeparator: { $0 == " " || $0 == "\t" })
        if let first = tokens.first, first.hasPrefix("@") {
            guard tokens.count == 1 else {
                throw CronSpecError(message: "alias \"\(first)\" takes no other fields")
            }
            guard let expansion = Self.aliases[first.lowercased()] else {
                throw CronSpecError(message: "unknown alias \"\(first)\"")
            }
            tokens = expansion.split(separator: " ")
        }
        guard tokens.count == 5 else {
            throw CronSpecError(message: "expected 5 fields (minute hour day-of-month month day-of-week), got \(tokens.count)")
        }
        minutes = try Field.minute.parse(tokens[0])
        hours = try Field.hour.parse(tokens[1])
        daysOfMonth = try Field.dayOfMonth.parse(tokens[2])
        months = try Field.month.parse(tokens[3])
        daysOfWeek = try Field.dayOfWeek.parse(tokens[4])
        domRestricted = !tokens[2].hasPrefix("*")
        dowRestricted = !tokens[4].hasPrefix("*")
    }

    private static let aliases: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
        "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
        "@hourly": "0 * * * *",
    ]

    /// How far `nextRun` looks ahead. Eight years covers the longest gap a
    /// satisfiable spec can have: Feb 29 across a skipped leap year (2096 → 2104).
    static let searchYears = 8

    /// The first minute boundary strictly after `unixMillis` that matches,
    /// in ms since the Unix epoch; nil if none within `searchYears` (e.g.
    /// Feb 30) or if the answer does not fit in an Int64.
    ///
    /// Walks the calendar coarse to fine: a month that does not match is
    /// skipped whole, a day at a time within matching months, and hours and
    /// minutes jump straight to the next set bit, so a search costs at most
    /// a few thousand cheap steps.
    public func nextRun(after unixMillis: Int64) -> Int64? {
        let firstMinute = floorDiv(Int(unixMillis), 60_000) + 1
        let startDay = floorDiv(firstMinute, 1440)
        var (year, month, day) = civil(fromDays: startDay)
        var hour = (firstMinute - startDay * 1440) / 60
        var minute = floorMod(firstMinute, 60)
        let lastYear = year + Self.searchYears

        func nextMonth() {
            (year, month) = month == 12 ? (year + 1, 1) : (year, month + 1)
            (day, hour, minute) = (1, 0, 0)
        }
        func nextDay() {
            if day < daysIn(month, of: year) {
                (day, hour, minute) = (day + 1, 0, 0)
            } else {
                nextMonth()
            }
        }

        while year <= lastYear {
            guard months & (1 << UInt64(month)) != 0 else { nextMonth(); continue }
            guard dayMatches(year, month, day) else { nextDay(); continue }
            // Bits 24+ of `hours` and 60+ of `minutes` are never set, so an
            // hour of 24 or a minute of 60 simply finds nothing.
            guard let h = nextBit(hours, from: hour) else { nextDay(); continue }
            if h != hour { (hour, minute) = (h, 0) }
            guard let m = nextBit(minutes, from: minute) else { (hour, minute) = (hour + 1, 0); continue }
            // Count minutes first: near Int64.min the day's midnight in ms may not fit.
            let (ms, overflow) = (days(fromCivil: year, month, day) * 1440 + h * 60 + m).multipliedReportingOverflow(by: 60_000)
            return overflow ? nil : Int64(ms)
        }
        return nil
    }

    private func dayMatches(_ year: Int, _ month: Int, _ day: Int) -> Bool {
        let domHit = daysOfMonth & (1 << UInt64(day)) != 0
        // 1970-01-01 was a Thursday (4).
        let weekday = floorMod(days(fromCivil: year, month, day) + 4, 7)
        let dowHit = daysOfWeek & (1 << UInt64(weekday)) != 0
        switch (domRestricted, dowRestricted) {
        case (true, true): return domHit || dowHit
        case (true, false): return domHit
        case (false, true): return dowHit
        case (false, false): return true
        }
    }
}

/// One of the five fields: its name for messages, its range and its names.
private struct Field {
    let name: String
    let low: Int
    let high: Int
    var names: [String] = []

    static let minute = Field(name: "minute", low: 0, high: 59)
    static let hour = Field(name: "hour", low: 0, high: 23)
    static let dayOfMonth = Field(name: "day-of-month", low: 1, high: 31)
    static let month = Field(name: "month", low: 1, high: 12, names: [
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ])
    static let dayOfWeek = Field(name: "day-of-week", low: 0, high: 7, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])

    private func error(_ message: String) -> CronSpecError { CronSpecError(message: message) }

    /// Parses a comma list of `*`, `n`, `a-b`, `*/s`, `a-b/s`, `n/s` into a mask.
    func parse(_ text: Substring) throws(CronSpecError) -> UInt64 {
        var mask: UInt64 = 0
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !item.isEmpty else { throw error("empty item in \(name) field \"\(text)\"") }
            let parts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { throw error("bad step \"\(item)\" in \(name) field") }
            var step = 1
            if parts.count == 2 {
                // Six digits is plenty (any step over the range just matches the start).
                guard let s = Int(parts[1]), parts[1].allSatisfy(\.isASCIIDigit), parts[1].count <= 6, s > 0 else {
                    throw error("bad step \"\(item)\" in \(name) field")
                }
                step = s
            }
            let base = parts[0]
            var first: Int, last: Int
            if base == "*" {
                (first, last) = (low, high)
            } else if base.contains("-") {
                let ends = base.split(separator: "-", omittingEmptySubsequences: false)
                guard ends.count == 2, !ends[0].isEmpty, !ends[1].isEmpty else {
                    throw error("bad range \"\(base)\" in \(name) field")
                }
                (first, last) = (try value(ends[0]), try value(ends[1]))
                guard first <= last else { throw error("reversed range \"\(base)\" in \(name) field") }
            } else {
                first = try value(base)
                // `n/s` runs from n to the field's maximum; plain `n` is just n.
                last = parts.count == 2 ? high : first
            }
            for v in stride(from: first, through: last, by: step) {
                mask |= 1 << UInt64(v == 7 && high == 7 ? 0 : v)  // day-of-week 7 is Sunday
            }
        }
        return mask
    }

    /// A number in range, or (for month and day-of-week) a 3-letter name.
    private func value(_ text: Substring) throws(CronSpecError) -> Int {
        if !text.isEmpty, text.allSatisfy(\.isASCIIDigit) {
            guard text.count <= 6, let n = Int(text), n >= low, n <= high else {
                throw error("\(name) field \"\(text)\" is out of range \(low)-\(high)")
            }
            return n
        }
        if let index = names.firstIndex(of: text.uppercased()) {
            return index + low  // JAN = 1, SUN = 0
        }
        throw error("bad value \"\(text)\" in \(name) field")
    }
}

private extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

// MARK: - UTC calendar arithmetic (proleptic Gregorian, H. Hinnant's algorithms)

// Division rounding toward -infinity (b > 0), so times before 1970 work too.
private func floorDiv(_ a: Int, _ b: Int) -> Int { a % b < 0 ? a / b - 1 : a / b }
private func floorMod(_ a: Int, _ b: Int) -> Int { a - floorDiv(a, b) * b }

/// The index of the lowest set bit of `mask` at or above `from`, if any.
private func nextBit(_ mask: UInt64, from: Int) -> Int? {
    let rest = mask & (~UInt64(0) << UInt64(from))
    return rest == 0 ? nil : rest.trailingZeroBitCount
}

private func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

private func daysIn(_ month: Int, of year: Int) -> Int {
    switch month {
    case 2: return isLeap(year) ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
}

/// Days since 1970-01-01 of a civil date. Years start in March internally so
/// that the leap day is the last day of the (shifted) year.
private func days(fromCivil year: Int, _ month: Int, _ day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = floorDiv(y, 400)
    let yearOfEra = y - era * 400                                     // 0...399
    let dayOfYear = (153 * ((month + 9) % 12) + 2) / 5 + day - 1      // 0...365
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    return era * 146_097 + dayOfEra - 719_468
}

/// The civil date (year, month 1-12, day 1-31) of a day count since 1970-01-01.
private func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
    let z = days + 719_468
    let era = floorDiv(z, 146_097)
    let dayOfEra = z - era * 146_097                                  // 0...146096
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let mp = (5 * dayOfYear + 2) / 153                                // March = 0
    let day = dayOfYear - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
}
