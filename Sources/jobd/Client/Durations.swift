/// Durations as people type and read them; JOB.ADD takes milliseconds.
enum Durations {
    private static let units: [(suffix: String, millis: Int64)] = [
        ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000),
    ]

    /// `250ms`, `30s`, `5m`, `2h`, `1d` or a plain integer of milliseconds;
    /// nil for anything else (negative, fractional, overflowing, unknown unit).
    static func milliseconds(_ text: String) -> Int64? {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let count = Int64(digits) else { return nil }
        let suffix = text.dropFirst(digits.count)
        if suffix.isEmpty { return count }
        // "ms" is checked before "m" and "s" by matching the whole suffix.
        guard let unit = units.first(where: { $0.suffix == suffix }) else { return nil }
        let (product, overflow) = count.multipliedReportingOverflow(by: unit.millis)
        return overflow ? nil : product
    }

    /// The largest units that fit, two at most: `750ms`, `1.5s`, `2m5s`, `3h`, `1d2h`.
    static func describe(_ millis: Int64) -> String {
        if millis < 0 { return "-" + describe(-millis) }
        if millis < 1000 { return "\(millis)ms" }
        if millis < 60_000 {
            let tenths = millis / 100
            return tenths % 10 == 0 ? "\(tenths / 10)s" : "\(tenths / 10).\(tenths % 10)s"
        }
        let seconds = millis / 1000
        let parts: [(Int64, String)] = [(seconds / 86_400, "d"), (seconds / 3600 % 24, "h"), (seconds / 60 % 60, "m"), (seconds % 60, "s")]
        guard let first = parts.firstIndex(where: { $0.0 > 0 }) else { return "0s" }
        var text = "\(parts[first].0)\(parts[first].1)"
        if first + 1 < parts.count, parts[first + 1].0 > 0 { text += "\(parts[first + 1].0)\(parts[first + 1].1)" }
        return text
    }
}
