import JobdRESP
import JobdStore
import JobdSystem

/// One eviction candidate: the best ones found by sampling are kept between
/// rounds, as Redis' eviction pool (best = idlest, least used, or nearest expiry).
struct EvictionCandidate {
    let score: UInt64
    let database: Int
    let key: [UInt8]
}

/// maxmemory: before a write runs, memory over the limit is brought back
/// under it by evicting keys that the policy allows, approximating LRU/LFU
/// by sampling (maxmemory-samples keys per database and round, the best 16
/// kept in a pool). Lists are never evicted: they are queues of jobs. When
/// only protected data remains, commands flagged denyoom get -OOM and
/// nothing changes; reads, deletes and pops keep working so queues drain.
///
/// Memory is what the allocator reports in use (mallinfo2), read at most
/// once per loop turn unless evicting, so the check costs nothing per write.
extension Server {
    static let evictionPoolSize = 16
    /// Most keys evicted for one command; the rest waits for the next write (bounded work per command).
    static let evictionsPerCommand = 1000

    /// True when the write may run: memory is under maxmemory after evicting
    /// what the policy allows, or evicting is still making progress (it stops
    /// after evictionsPerCommand keys and goes on at the next write or cron,
    /// as Redis' eviction time limit). False only when nothing is left to evict.
    func makeRoomForWrite() -> Bool {
        let limit = config.maxMemory
        guard limit > 0 else { return true }
        if memoryCheckedTurn == loopTurn && !memoryWasOver { return true }
        memoryCheckedTurn = loopTurn
        var used = ProcessMemory.allocatedBytes()
        var evicted = 0
        while used > limit {
            guard config.maxMemoryPolicy != .noeviction, evictOne() else {
                memoryWasOver = true
                return false
            }
            evicted += 1
            // Evicting frees memory at once (free(3)); re-read the allocator's figure every 16 keys.
            if evicted % 16 == 0 { used = ProcessMemory.allocatedBytes() }
            if evicted >= Server.evictionsPerCommand {
                memoryWasOver = true
                return true
            }
        }
        memoryWasOver = false
        return true
    }

    /// Evicts the best candidate; false when the policy leaves nothing to evict.
    private func evictOne() -> Bool {
        for _ in 0..<4 {  // a pooled key may be gone or changed: refill and retry a few times
            fillEvictionPool()
            while let candidate = evictionPool.popLast() {
                let db = keyspace[candidate.database]
                guard let entry = candidate.key.withUnsafeBytes({ db.storedEntry($0) }), isEvictable(entry) else { continue }
                evict(entry, from: db)
                return true
            }
        }
        return false
    }

    private func isEvictable(_ entry: KeyEntry) -> Bool {
        if case .list = entry.value { return false }  // queues are never evicted
        return !config.maxMemoryPolicy.volatileOnly || entry.hasExpiry
    }

    /// Samples every database and merges the candidates into the pool (best last).
    private func fillEvictionPool() {
        let policy = config.maxMemoryPolicy
        for db in keyspace.databases where db.count > 0 {
            if policy.volatileOnly && db.expiringCount == 0 { continue }
            var found = 0, tries = 0
            while found < config.maxMemorySamples && tries < config.maxMemorySamples * 4 {
                tries += 1
                guard let entry = policy.volatileOnly ? db.randomVolatileEntry() : db.randomEntry() else { break }
                guard isEvictable(entry) else { continue }
                found += 1
                let score = evictionScore(entry, policy)
                if evictionPool.contains(where: { $0.database == db.index && $0.key == entry.key }) { continue }
                evictionPool.append(EvictionCandidate(score: score, database: db.index, key: entry.key))
            }
        }
        evictionPool.sort { $0.score < $1.score }
        if evictionPool.count > Server.evictionPoolSize {
            evictionPool.removeFirst(evictionPool.count - Server.evictionPoolSize)
        }
    }

    /// Higher is a better victim.
    private func evictionScore(_ entry: KeyEntry, _ policy: EvictionPolicy) -> UInt64 {
        switch policy {
        case .allkeysLRU, .volatileLRU: return UInt64(keyspace.accessClock &- entry.lastAccess)
        case .allkeysLFU, .volatileLFU: return UInt64(255 - keyspace.decayedFrequency(entry))
        case .volatileTTL: return UInt64(bitPattern: Int64.max - entry.expiresAt)
        case .allkeysRandom, .volatileRandom, .noeviction: return UInt64.random(in: 0...UInt64.max, using: &keyspace.random)
        }
    }

    /// Deletes an evicted key as a DEL would be: in the log, for WATCH and for the rewrite.
    private func evict(_ entry: KeyEntry, from db: Database) {
        rewrite?.preserve(entry, in: db)
        db.remove(entry)
        log(db.index) { e in e.begin(2); e.argument("DEL"); e.argument(entry.key) }
        entry.key.withUnsafeBytes { touch(database: db.index, key: $0) }
        stats.evictedKeys += 1
    }

    /// Settings the keyspace needs from the config (LFU counting is only paid for under an LFU policy).
    func applyMemoryPolicy() {
        keyspace.countsFrequency = config.maxMemoryPolicy.usesFrequency
        keyspace.lfuLogFactor = config.lfuLogFactor
        keyspace.lfuDecayMinutes = config.lfuDecayTime
        memoryCheckedTurn = -1
        evictionPool.removeAll()
    }

    /// INFO memory's maxmemory fields.
    func maxMemoryInfoFields() -> [(String, String)] {
        [("maxmemory", String(config.maxMemory)), ("maxmemory_human", ServerInfo.human(config.maxMemory)),
         ("maxmemory_policy", config.maxMemoryPolicy.rawValue)]
    }
}
