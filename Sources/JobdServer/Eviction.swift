import JobdRESP
import JobdStore
import JobdSystem

/// One eviction candidate: the best ones found by sampling are kept between
/// rounds, as Redis' eviction pool (best = idlest, least used, or nearest expiry).
struct EvictionCandidate {
    let score: UInt64
    let database: Int
    /// The entry as sampled; it is evicted only if it is still the key's entry.
    let entry: KeyEntry
}

/// maxmemory: before a write runs, memory over the limit is brought back
/// under it by evicting keys that the policy allows, approximating LRU/LFU
/// by sampling (maxmemory-samples keys per database and round, the best 16
/// kept in a pool). Lists are never evicted: they are queues of jobs.
/// Before any key, the records of finished jobs kept for their results go,
/// oldest finish first, under every policy but noeviction (each has a TTL,
/// result-ttl, and would be forgotten then anyway); no unfinished or dead
/// job is ever evicted. When only protected data remains, commands flagged
/// denyoom get -OOM and nothing changes; reads, deletes and pops keep
/// working so queues drain.
///
/// Memory is what the allocator reports in use (mallinfo2), read once per
/// loop turn; within a turn, evictions subtract an estimate of what they
/// free. A turn's writes can overshoot the limit by what that turn adds.
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
        if memoryCheckedTurn == loopTurn {
            if !memoryWasOver { return true }
        } else {
            // mallinfo2 walks the allocator's free lists: read it once per turn, not per write.
            memoryCheckedTurn = loopTurn
            usedMemoryEstimate = ProcessMemory.allocatedBytes()
        }
        var evicted = 0
        while usedMemoryEstimate > limit {
            guard config.maxMemoryPolicy != .noeviction, let freed = jobs.evictKeptRecord() ?? evictOne() else {
                memoryWasOver = true
                return false
            }
            usedMemoryEstimate -= freed
            evicted += 1
            if evicted >= Server.evictionsPerCommand {
                memoryWasOver = true
                return true
            }
        }
        memoryWasOver = false
        return true
    }

    /// About how many heap bytes a key holds (for the estimate between allocator readings).
    static func estimatedSize(_ entry: KeyEntry) -> Int {
        let perElement = 48  // allocation headers, array and table slots
        var size = 96 + entry.key.count  // the entry object and its key
        switch entry.value {
        case let .string(bytes): size += bytes.count + 32
        case .list: break  // never evicted
        case let .hash(hash): hash.fields.forEach { size += $0.count + $1.count + 2 * perElement }
        case let .set(set): set.forEach { size += $0.count + perElement }
        case let .zset(zset): zset.forEach { size += $1.count + 2 * perElement + 8 * 2 }
        case let .stream(stream):
            stream.range(from: .zero, to: .max) { entry in
                size += perElement + entry.fieldsAndValues.reduce(0) { $0 + $1.count + 32 }
            }
        }
        return size
    }

    /// Evicts the best candidate and returns about how many bytes that freed; nil when the policy leaves nothing to evict.
    private func evictOne() -> Int? {
        for _ in 0..<4 {  // pooled keys may be gone or changed: refill and retry a few times
            // Fresh samples for every few victims: a pool left to run down evicts keys that were
            // idle when sampled (those used since are skipped below), sampling for each costs a lot.
            if evictionsSinceSampling >= 4 || evictionPool.isEmpty {
                fillEvictionPool()
                evictionsSinceSampling = 0
            }
            while let candidate = evictionPool.popLast() {
                let db = keyspace[candidate.database]
                let entry = candidate.entry
                guard entry.key.withUnsafeBytes({ db.storedEntry($0) }) === entry, isEvictable(entry) else { continue }
                // Used since it was sampled (its idle time or LFU rank went down): no longer a good victim.
                if evictionScore(entry, config.maxMemoryPolicy) < candidate.score && !config.maxMemoryPolicy.isRandom { continue }
                let size = Server.estimatedSize(entry)
                evict(entry, from: db)
                evictionsSinceSampling += 1
                return size
            }
        }
        return nil
    }

    private func isEvictable(_ entry: KeyEntry) -> Bool {
        if case .list = entry.value { return false }  // queues are never evicted
        return !config.maxMemoryPolicy.volatileOnly || entry.hasExpiry
    }

    /// Samples every database and merges the candidates into the pool (best last).
    private func fillEvictionPool() {
        let policy = config.maxMemoryPolicy
        let samples = config.maxMemorySamples
        for db in keyspace.databases where db.count > 0 {
            if policy.volatileOnly && db.expiringCount == 0 { continue }
            var found = 0, tries = 0
            while found < samples && tries < samples * 4 {
                tries += 1
                guard let entry = policy.volatileOnly ? db.randomVolatileEntry() : db.randomEntry() else { break }
                guard isEvictable(entry) else { continue }
                found += 1
                if evictionPool.contains(where: { $0.entry === entry }) { continue }
                let candidate = EvictionCandidate(score: evictionScore(entry, policy), database: db.index, entry: entry)
                // Insert in order (best last); a full pool drops its worst.
                let position = evictionPool.firstIndex { $0.score > candidate.score } ?? evictionPool.count
                evictionPool.insert(candidate, at: position)
                if evictionPool.count > Server.evictionPoolSize { evictionPool.removeFirst() }
            }
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

    /// Bytes held by queues (lists) and job records: mostly what eviction
    /// never frees. Walks every key and record, so INFO memory costs
    /// O(keys + jobs), like INFO keyspace's counts would.
    func memoryHeldByQueues() -> Int {
        var total = jobs.recordMemoryEstimate()
        for db in keyspace.databases where db.count > 0 {
            db.forEachStored { entry in
                if case let .list(list) = entry.value { total += list.allocatedBytes + 96 + entry.key.count }
            }
        }
        return total
    }

    /// INFO memory's maxmemory fields.
    func maxMemoryInfoFields() -> [(String, String)] {
        [("maxmemory", String(config.maxMemory)), ("maxmemory_human", ServerInfo.human(config.maxMemory)),
         ("maxmemory_policy", config.maxMemoryPolicy.rawValue)]
    }
}
