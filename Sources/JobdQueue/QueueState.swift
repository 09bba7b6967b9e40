import JobdStore

/// A queue: the list key `name` in `database`.
public struct QueueKey: Hashable, Sendable {
    public let database: Int
    public let name: [UInt8]
    public init(database: Int, name: [UInt8]) {
        self.database = database
        self.name = name
    }
}

/// What the engine keeps about a queue besides its list: settings,
/// counters, dead letters and when its pending jobs arrived.
public final class QueueState {
    public let key: QueueKey
    /// The level of a plain LPUSH/RPUSH (QUEUE.CONFIG q PRIORITY p).
    public internal(set) var defaultPriority = PriorityLevels.defaultLevel
    /// Paused queues lease nothing (plain list pops still work).
    public internal(set) var paused = false

    public internal(set) var enqueued = 0
    public internal(set) var completed = 0
    /// Failed attempts (each JOB.FAIL or lease timeout counts).
    public internal(set) var failed = 0
    public internal(set) var expired = 0
    public internal(set) var canceled = 0
    public internal(set) var leased = 0
    public internal(set) var active = 0
    public internal(set) var delayed = 0
    /// Dead letters, oldest death first.
    public internal(set) var dead: [UInt64] = []
    /// When the oldest pending job of each level arrived, for aging and QUEUE.STATS.
    var arrivals = [ArrivalClock](repeating: ArrivalClock(), count: PriorityLevels.range.count)
    var rates = RateWindow()

    init(key: QueueKey) { self.key = key }

    public var enqueueRate: Double { rates.rate(\.enqueued) }
    public var completeRate: Double { rates.rate(\.completed) }
}

/// Arrival times of a level's pending jobs in one-second buckets, oldest
/// first. Plain list pops and LREMs are not seen one by one: `reconcile`
/// drops the oldest buckets down to the real count.
struct ArrivalClock {
    private var buckets = RingDeque<(second: Int64, count: Int)>()
    private var total = 0

    mutating func arrived(_ now: Int64, frontOfLine: Bool) {
        let second = now / 1000
        if frontOfLine {
            // RPUSH: first in line; counts as the oldest arrival of its second.
            if let first = buckets.first, first.second <= second {
                buckets[0] = (first.second, first.count + 1)
            } else {
                buckets.prepend((second, 1))
            }
        } else if let last = buckets.last, last.second == second {
            buckets[buckets.count - 1] = (second, last.count + 1)
        } else {
            buckets.append((second, 1))
        }
        total += 1
    }

    /// The level now holds `count` jobs: forget the oldest arrivals beyond that.
    mutating func reconcile(_ count: Int) {
        while total > count, let first = buckets.first {
            let drop = min(first.count, total - count)
            if drop == first.count { _ = buckets.removeFirst() } else { buckets[0] = (first.second, first.count - drop) }
            total -= drop
        }
    }

    /// Arrival time (ms) of the oldest job, if any was seen.
    var oldest: Int64? { buckets.first.map { $0.second * 1000 } }
}

/// Counters sampled once a second over the last 10 s, for per-second rates.
struct RateWindow {
    struct Sample { var at: Int64; var enqueued: Int; var completed: Int }
    private var samples = RingDeque<Sample>()

    mutating func sample(_ now: Int64, enqueued: Int, completed: Int) {
        if let last = samples.last, now - last.at < 1000 { return }
        samples.append(Sample(at: now, enqueued: enqueued, completed: completed))
        while samples.count > 11 { _ = samples.removeFirst() }
    }

    func rate(_ field: KeyPath<Sample, Int>) -> Double {
        guard let first = samples.first, let last = samples.last, last.at > first.at else { return 0 }
        return Double(last[keyPath: field] - first[keyPath: field]) * 1000 / Double(last.at - first.at)
    }
}
