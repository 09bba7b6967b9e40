import JobdSystem

/// A queue's rate limit: at most `amount` leases per `periodMillis`
/// (`QUEUE.CONFIG q RATE 100/s`, `30/m`, `500/h`).
public struct RateLimit: Equatable, Sendable {
    public let amount: Int64
    public let periodMillis: Int64

    /// Large enough for any real queue, small enough that the bucket's
    /// arithmetic (amount × period, in Int64) can never overflow.
    public static let maxAmount: Int64 = 1_000_000_000

    public init?(amount: Int64, periodMillis: Int64) {
        guard (1...RateLimit.maxAmount).contains(amount), [1000, 60_000, 3_600_000].contains(periodMillis) else { return nil }
        self.amount = amount
        self.periodMillis = periodMillis
    }

    /// `n/s`, `n/m` or `n/h`; `0` or `off` (or `0/s`...) is no limit (nil).
    /// Throws `ERR invalid rate '...'` for anything else.
    public static func parse(_ text: [UInt8]) throws(JobError) -> RateLimit? {
        let word = String(decoding: text, as: UTF8.self).lowercased()
        if word == "0" || word == "off" { return nil }
        let parts = word.split(separator: "/", omittingEmptySubsequences: false)
        let invalid = JobError("ERR invalid rate '\(String(decoding: text.prefix(64), as: UTF8.self))': expected n/s, n/m or n/h "
                               + "with n from 1 to \(maxAmount), or 0 (or off) for no limit")
        guard parts.count == 2, let amount = Numbers.parseInt64(String(parts[0])), amount >= 0 else { throw invalid }
        let period: Int64
        switch parts[1] {
        case "s": period = 1000
        case "m": period = 60_000
        case "h": period = 3_600_000
        default: throw invalid
        }
        if amount == 0 { return nil }
        guard let limit = RateLimit(amount: amount, periodMillis: period) else { throw invalid }
        return limit
    }

    /// As QUEUE.STATS and the log show it: `100/s`.
    public var text: String {
        "\(amount)/" + (periodMillis == 1000 ? "s" : periodMillis == 60_000 ? "m" : "h")
    }
}

/// A token bucket holding up to `amount` tokens, refilled continuously at
/// `amount` per period; a lease takes one. Integer arithmetic, exact: one
/// token is `periodMillis` units and every millisecond adds `amount` units,
/// so fractions of a token accumulate without rounding and the time of the
/// next whole token is exact. The bucket never reads the clock.
struct TokenBucket {
    let limit: RateLimit
    private(set) var units: Int64
    private(set) var refilledAt: Int64

    /// A new bucket is full: a queue may burst up to its per-period amount at once.
    init(_ limit: RateLimit, now: Int64) {
        self.limit = limit
        units = limit.amount * limit.periodMillis
        refilledAt = now
    }

    var capacity: Int64 { limit.amount * limit.periodMillis }

    /// Whole tokens in the bucket at `now`.
    mutating func tokens(now: Int64) -> Int {
        refill(now: now)
        return Int(units / limit.periodMillis)
    }

    /// Takes one token (the caller saw one with `tokens(now:)`).
    mutating func take() { units -= limit.periodMillis }

    /// When the bucket will next hold a whole token (`now` if it does).
    mutating func nextTokenAt(now: Int64) -> Int64 {
        refill(now: now)
        let missing = limit.periodMillis - units
        guard missing > 0 else { return now }
        return now + (missing + limit.amount - 1) / limit.amount
    }

    private mutating func refill(now: Int64) {
        let elapsed = now - refilledAt
        refilledAt = now
        // A wall clock set back counts as no time passed (the bucket does not stall until it catches up).
        guard elapsed > 0 else { return }
        // A whole period refills the bucket; capping first keeps elapsed × amount within Int64.
        units = elapsed >= limit.periodMillis ? capacity : min(capacity, units + elapsed * limit.amount)
    }
}

/// A queue's flow control: its rate and concurrency limits, the token
/// bucket, and how often they held a lease back. Kept inline in its
/// QueueState so that an unlimited queue costs the dispatch path one check
/// of `isLimited`.
struct FlowControl {
    var bucket: TokenBucket?
    /// Most jobs of the queue active at once (0: no limit).
    var concurrency = 0
    /// Times a lease was held back by either limit (QUEUE.STATS throttled).
    var throttled = 0
    /// When the engine's timeline will wake this queue for its next token (0: no wake pending).
    var wakeAt: Int64 = 0

    var isLimited: Bool { bucket != nil || concurrency > 0 }
}
