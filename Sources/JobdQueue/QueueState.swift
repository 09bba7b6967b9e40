import Glibc
import JobdStore

/// A queue: the list key `name` in `database`.
public struct QueueKey: Hashable, Sendable {
    public let database: Int
    public let name: [UInt8]
    public init(database: Int, name: [UInt8]) {
        self.database = database
        self.name = name
    }

    // The name's bytes in one call: the synthesized hash feeds an [UInt8]
    // to the hasher byte by byte, which showed up on the lease path.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(database)
        name.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    /// Whether this is the queue named `bytes` in `database` (no copy of the name).
    @inline(__always)
    public func names(database: Int, _ bytes: UnsafeRawBufferPointer) -> Bool {
        // memcmp: elementsEqual walks the bytes through iterators (about 130 instructions for a short name).
        self.database == database && name.count == bytes.count
            && (bytes.isEmpty || name.withUnsafeBytes { memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 })
    }
}

/// What the engine keeps about a queue besides its list: settings,
/// counters, dead letters and when its pending jobs arrived.
public final class QueueState {
    /// Changes only when SWAPDB swaps its database.
    public internal(set) var key: QueueKey
    /// Names the queue on the engine's timeline (flow-control wakes).
    let serial: UInt64
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
    /// From becoming pending to being leased (plain pushes: arrival time to the second).
    public internal(set) var waitTime = LatencyHistogram()
    /// From lease to ack or fail (in-process workers: the handler's own time).
    public internal(set) var runTime = LatencyHistogram()
    /// Dead letters, oldest death first.
    public internal(set) var dead: [UInt64] = []
    /// When the oldest pending job of each level arrived, for aging and QUEUE.STATS.
    var arrivals = [ArrivalClock](repeating: ArrivalClock(), count: PriorityLevels.range.count)
    var rates = RateWindow()
    /// Rate and concurrency limits (FlowControl.swift).
    var flow = FlowControl()
    /// A rate or concurrency limit is set: the one check an unlimited queue costs the dispatch path.
    public internal(set) var isLimited = false

    /// When the plain-push sweep first found the list gone (0: there when last looked).
    var listGoneSince: Int64 = 0

    /// Settings differ from the defaults: QUEUE.LIST shows the queue even when it is empty.
    public var hasSettings: Bool { defaultPriority != PriorityLevels.defaultLevel || paused || isLimited }

    /// Nothing but plain pushes ever happened here (no lease, delay, finish or setting).
    var onlyPlainPushes: Bool {
        leased == 0 && active == 0 && delayed == 0 && completed == 0 && failed == 0 && expired == 0
            && canceled == 0 && dead.isEmpty && !hasSettings
    }

    init(key: QueueKey, serial: UInt64) {
        self.key = key
        self.serial = serial
    }

    /// QUEUE.CONFIG q RATE (nil: none).
    public var rateLimit: RateLimit? { flow.bucket?.limit }
    /// QUEUE.CONFIG q CONCURRENCY (0: none).
    public var concurrencyLimit: Int { flow.concurrency }
    /// Times a lease was held back by the rate or concurrency limit.
    public var throttled: Int { flow.throttled }

    public var enqueueRate: Double { rates.rate(\.enqueued) }
    public var completeRate: Double { rates.rate(\.completed) }
}

/// Arrival times of a level's pending jobs in one-second buckets, oldest
/// first. Plain list pops and LREMs are not seen one by one: `reconcile`
/// drops the oldest buckets down to the real count. The newest bucket is
/// kept in two plain fields, so that the pushes and leases of a busy
/// queue (all in the current second) never touch the deque.
struct ArrivalClock {
    /// Older buckets, oldest first.
    private var buckets = RingDeque<(second: Int64, count: Int)>()
    private var newestSecond: Int64 = 0
    private var newestCount = 0
    private var total = 0

    mutating func arrived(_ now: Int64, frontOfLine: Bool, count: Int = 1) {
        let second = now / 1000
        total += count
        if frontOfLine {
            // RPUSH: first in line; counts as the oldest arrival of its second.
            if let first = buckets.first {
                if first.second <= second { buckets[0] = (first.second, first.count + count) } else { buckets.prepend((second, count)) }
            } else if newestCount > 0 {
                if newestSecond > second { newestSecond = second }
                newestCount += count
            } else {
                (newestSecond, newestCount) = (second, count)
            }
        } else if newestCount > 0 && newestSecond == second {
            newestCount += count
        } else {
            if newestCount > 0 { buckets.append((newestSecond, newestCount)) }
            (newestSecond, newestCount) = (second, count)
        }
    }

    /// The level now holds `count` jobs: forget the oldest arrivals beyond that.
    mutating func reconcile(_ count: Int) {
        while total > count {
            let excess = total - count
            if let first = buckets.first {
                let drop = min(first.count, excess)
                if drop == first.count { _ = buckets.removeFirst() } else { buckets[0] = (first.second, first.count - drop) }
                total -= drop
            } else {
                let drop = min(newestCount, excess)
                newestCount -= drop
                total -= drop
                if drop == 0 { total = count }  // nothing left to drop: the counts agree again
            }
        }
    }

    /// Arrival time (ms) of the oldest job, if any was seen.
    var oldest: Int64? {
        if let first = buckets.first { return first.second * 1000 }
        return newestCount > 0 ? newestSecond * 1000 : nil
    }
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
