import JobdSystem

/// The databases and the state every database shares: the command clock,
/// the expiry hook and counters. Owned by the engine thread.
public final class Keyspace {
    public private(set) var databases: [Database] = []
    /// "Now" in Unix milliseconds for expiry decisions; the engine sets it
    /// before running commands so a command sees one consistent time.
    public var now: Int64
    /// A coarse clock (tenths of a second) stamped on keys as they are used.
    public var accessClock: UInt32 = 0
    /// When set, each access also counts in the key's LFU counter (an LFU maxmemory-policy).
    public var countsFrequency = false
    public var lfuLogFactor = 10
    /// Minutes of disuse that take one off a key's LFU counter (Redis' lfu-decay-time).
    public var lfuDecayMinutes = 1
    public static let lfuInitialValue: UInt8 = 5
    /// Called after a key was created (Redis' dbAdd): blocked pops watch for lists.
    public var onKeyAdded: ((Database, KeyEntry) -> Void)?
    /// Called after a key was deleted because its TTL passed.
    public var onExpire: ((Database, KeyEntry) -> Void)?
    public var expiredKeys = 0
    /// Stamped on keys created from now on (see KeyEntry.snapshotGeneration).
    public var snapshotGeneration: UInt32 = 0
    public var random = FastRandom()

    public init(databaseCount: Int = 16, now: Int64 = Clock.wallMillis()) {
        self.now = now
        databases = (0..<databaseCount).map { Database(index: $0, keyspace: self) }
    }

    public subscript(index: Int) -> Database { databases[index] }

    public var keyCount: Int { databases.reduce(0) { $0 + $1.count } }

    public func removeAll() {
        for db in databases { db.removeAll() }
    }

    // MARK: Access tracking (LRU and LFU)

    /// Stamps an access on `entry`: its LRU clock, and its LFU counter when counted.
    @inline(__always)
    func touchAccess(_ entry: KeyEntry) {
        if countsFrequency { countAccess(entry) }
        entry.lastAccess = accessClock
    }

    /// The LFU counter as it is now: decayed by one per lfu-decay-time minutes unused.
    public func decayedFrequency(_ entry: KeyEntry) -> UInt8 {
        guard lfuDecayMinutes > 0 else { return entry.frequency }
        let periods = Int(accessClock &- entry.lastAccess) / (600 * lfuDecayMinutes)
        return periods >= Int(entry.frequency) ? 0 : entry.frequency - UInt8(periods)
    }

    /// Redis' LFULogIncr: the higher the counter, the less likely one more access raises it.
    private func countAccess(_ entry: KeyEntry) {
        var counter = decayedFrequency(entry)
        if counter < 255 {
            let base = Double(max(0, Int(counter) - Int(Keyspace.lfuInitialValue)))
            let probability = 1.0 / (base * Double(lfuLogFactor) + 1)
            if Double.random(in: 0..<1, using: &random) < probability { counter += 1 }
        }
        entry.frequency = counter
    }

    /// Active expiry across all databases, as Redis' slow cycle: repeat a
    /// database while more than a quarter of the sample had expired, and stop
    /// when `budgetNanos` is used up. Returns the number of keys expired.
    @discardableResult
    public func activeExpireCycle(budgetNanos: Int64, samplePerRound: Int = 20) -> Int {
        let deadline = Clock.monotonicNanos() + budgetNanos
        var total = 0
        for db in databases where db.expiringCount > 0 {
            var rounds = 0
            while true {
                let (sampled, expired) = db.expireSample(samplePerRound)
                total += expired
                rounds += 1
                if sampled == 0 || expired * 4 <= sampled { break }
                if rounds % 16 == 0 && Clock.monotonicNanos() > deadline { return total }
            }
            if Clock.monotonicNanos() > deadline { break }
        }
        return total
    }
}

/// xoshiro256** seeded from the system: cheap randomness for sampling.
public struct FastRandom: RandomNumberGenerator {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    public init() {
        var seed = SystemRandomNumberGenerator()
        s = (seed.next(), seed.next(), seed.next(), seed.next() | 1)
    }

    public mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = (s.3 << 45) | (s.3 >> 19)
        return result
    }
}
