import JobdSystem

/// Parsing of config values, with Redis' error texts.
enum ConfigValues {
    /// Redis' memtoull: a number with an optional unit b, k, kb, m, mb, g, gb (case-insensitive).
    static func memory(_ text: String) -> Int? {
        let lower = text.lowercased()
        let units: [(String, Int)] = [("gb", 1 << 30), ("mb", 1 << 20), ("kb", 1 << 10),
                                       ("g", 1_000_000_000), ("m", 1_000_000), ("k", 1000), ("b", 1)]
        var digits = lower
        var multiplier = 1
        for (suffix, factor) in units where lower.hasSuffix(suffix) {
            digits = String(lower.dropLast(suffix.count))
            multiplier = factor
            break
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isNumber), let value = Int(digits) else { return nil }
        let (product, overflow) = value.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : product
    }

    static func integer(_ text: String, in range: ClosedRange<Int>) throws(ConfigError) -> Int {
        // Redis' string2ll: no sign but '-', no leading zeros, no spaces.
        guard let parsed = Numbers.parseInt64(text) else { throw .message("argument couldn't be parsed into an integer") }
        let value = Int(parsed)
        guard range.contains(value) else {
            throw .message("argument must be between \(range.lowerBound) and \(range.upperBound) inclusive")
        }
        return value
    }

    static func memoryValue(_ text: String, in range: ClosedRange<Int> = 0...Int.max) throws(ConfigError) -> Int {
        guard let value = memory(text) else { throw .message("argument must be a memory value") }
        guard range.contains(value) else {
            throw .message("argument must be between \(range.lowerBound) and \(range.upperBound) inclusive")
        }
        return value
    }

    static func yesNo(_ text: String) throws(ConfigError) -> Bool {
        switch text.lowercased() {
        case "yes": return true
        case "no": return false
        default: throw .message("argument must be 'yes' or 'no'")
        }
    }

    static func formatYesNo(_ value: Bool) -> String { value ? "yes" : "no" }
}

/// A configuration error with the text Redis would give.
public enum ConfigError: Error, Equatable, CustomStringConvertible {
    case message(String)

    public var description: String {
        switch self { case let .message(text): text }
    }
}
