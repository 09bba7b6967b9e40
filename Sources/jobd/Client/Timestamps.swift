/// Unix milliseconds to and from ISO 8601 in UTC, by calendar arithmetic
/// (Howard Hinnant's days-from-civil), so no time zone database is read.
enum Timestamps {
    /// `2025-03-01T12:00:00.250Z`, or `-` for 0 (the server's "never").
    static func format(_ millis: Int64) -> String {
        if millis == 0 { return "-" }
        let days = floorDivide(millis, 86_400_000)
        let inDay = millis - days * 86_400_000
        let (year, month, day) = civil(fromDays: days)
        let seconds = inDay / 1000
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2)):"
            + "\(pad(seconds % 60, 2)).\(pad(inDay % 1000, 3))Z"
    }

    /// Unix milliseconds from a plain integer or from ISO 8601:
    /// `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.fff]]` (or a space for `T`),
    /// then `Z`, `±HH:MM`, `±HHMM` or nothing (UTC). Nil when malformed.
    static func parse(_ text: String) -> Int64? {
        if let millis = Int64(text) { return millis >= 0 ? millis : nil }
        var scanner = Scanner(Array(text.utf8))
        guard let year = scanner.number(digits: 4), scanner.skip("-"), let month = scanner.number(digits: 2),
              scanner.skip("-"), let day = scanner.number(digits: 2),
              (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day) else { return nil }
        var millis = days(fromYear: year, month: month, day: day) * 86_400_000
        if scanner.atEnd { return millis }
        guard scanner.skip("T") || scanner.skip("t") || scanner.skip(" "),
              let hour = scanner.number(digits: 2), hour < 24, scanner.skip(":"),
              let minute = scanner.number(digits: 2), minute < 60 else { return nil }
        var second: Int64 = 0, fraction: Int64 = 0
        if scanner.skip(":") {
            guard let s = scanner.number(digits: 2), s < 60 else { return nil }
            second = s
            if scanner.skip(".") {
                let digits = scanner.digits()
                guard !digits.isEmpty else { return nil }
                // Milliseconds: the first three digits, padded with zeros (".5" is 500 ms).
                let padded = Array(digits.prefix(3)) + Array(repeating: 0, count: 3 - min(3, digits.count))
                fraction = padded.reduce(0) { $0 * 10 + Int64($1) }
            }
        }
        millis += ((hour * 60 + minute) * 60 + second) * 1000 + fraction
        if scanner.atEnd || scanner.skip("Z") || scanner.skip("z") {
            return scanner.atEnd ? millis : nil
        }
        let sign: Int64 = scanner.skip("+") ? 1 : scanner.skip("-") ? -1 : 0
        guard sign != 0, let offsetHours = scanner.number(digits: 2), offsetHours < 24 else { return nil }
        _ = scanner.skip(":")
        guard let offsetMinutes = scanner.number(digits: 2), offsetMinutes < 60, scanner.atEnd else { return nil }
        // 12:00+02:00 is 10:00 UTC.
        return millis - sign * (offsetHours * 60 + offsetMinutes) * 60_000
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { index == bytes.count }

        mutating func skip(_ character: Unicode.Scalar) -> Bool {
            guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
            index += 1
            return true
        }

        /// Exactly `digits` decimal digits.
        mutating func number(digits: Int) -> Int64? {
            guard index + digits <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[index..<(index + digits)] {
                guard (48...57).contains(byte) else { return nil }
                value = value * 10 + Int64(byte - 48)
            }
            index += digits
            return value
        }

        /// The run of digits here, as digit values.
        mutating func digits() -> [UInt8] {
            var result: [UInt8] = []
            while index < bytes.count, (48...57).contains(bytes[index]) {
                result.append(bytes[index] - 48)
                index += 1
            }
            return result
        }
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }

    private static func isLeap(_ year: Int64) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        month == 2 ? (isLeap(year) ? 29 : 28) : [4, 6, 9, 11].contains(month) ? 30 : 31
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date.
    static func days(fromYear year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDivide(y, 400)
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The inverse of `days(fromYear:month:day:)`.
    static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
