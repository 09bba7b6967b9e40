/// Counts of durations in buckets whose upper bounds grow by 4×, from
/// 1 ms to 262 s, plus the sum: what a Prometheus histogram needs. Adding
/// a value is a leading-zero count and two additions, cheap enough for the
/// dispatch path.
public struct LatencyHistogram: Sendable {
    /// Upper bounds in seconds, ascending; the last bucket (+Inf) is implicit.
    public static let upperBoundsSeconds: [Double] = (0..<10).map { 0.001 * Double(1 << (2 * $0)) }

    /// counts[i]: values in bucket i (not cumulative); the last is +Inf. Inline,
    /// so recording touches no heap buffer (no uniqueness check, no copy).
    private var counts = InlineArray<11, Int>(repeating: 0)
    public private(set) var sumNanos: Int64 = 0
    public private(set) var total = 0

    public init() {}

    public mutating func record(nanos: Int64) {
        let value = max(0, nanos)
        counts[Self.bucket(nanos: value)] += 1
        sumNanos &+= value
        total += 1
    }

    public mutating func record(millis: Int64) { record(nanos: max(0, millis) &* 1_000_000) }

    /// Bucket i holds values up to 1 ms·4^i: above 1 ms, i = ceil(log4(value / 1 ms)).
    static func bucket(nanos: Int64) -> Int {
        let micros = nanos / 1000 + (nanos % 1000 == 0 ? 0 : 1)
        guard micros > 1000 else { return 0 }
        let quotient = UInt64((micros - 1) / 1000)
        let bits = 64 - quotient.leadingZeroBitCount
        return min(10, (bits + 1) / 2)
    }

    /// Cumulative counts per upper bound, +Inf last (Prometheus' `le` buckets).
    public var cumulativeCounts: [Int] {
        var running = 0
        return (0..<counts.count).map { running += counts[$0]; return running }
    }
}
