import JobdStore

/// When the engine keeps a queue's state. Every list is a queue: a plain
/// LPUSH into a list the engine has never seen gives it a state, so its
/// enqueue count, rate and oldest pending age are known from the first job.
/// Lists are also Redis' general data type, though, and some programs make
/// one per request: a state that never saw more than plain pushes is let go
/// once its list has been gone for `plainQueueLinger`, found by a sweep that
/// looks at a bounded number of such states per call. A queue that has
/// settings, leases, delays or dead letters keeps its state, as before.
extension JobEngine {
    /// How long a queue fed only by plain pushes keeps its counters after its list is gone.
    public static let plainQueueLinger: Int64 = 60_000
    /// Plain-push queues looked at per sweep (about once a second).
    public static let plainSweepBudget = 1000

    /// The state of the queue a plain LPUSH/RPUSH adds to, made on first use.
    public func queueForPush(database: Int, _ name: UnsafeRawBufferPointer) -> QueueState {
        if let state = queue(database: database, name) { return state }
        let state = queueState(QueueKey(database: database, name: Array(name)))
        plainQueues.append(state)
        return state
    }

    /// Lets go of plain-push queue states whose list has been gone for the
    /// linger time; each call looks at up to `budget` of them.
    public func sweepPlainQueues(now: Int64, budget: Int = JobEngine.plainSweepBudget) {
        var looked = 0
        while looked < budget && !plainQueues.isEmpty {
            looked += 1
            if plainSweepCursor >= plainQueues.count { plainSweepCursor = 0 }
            let state = plainQueues[plainSweepCursor]
            if queues[state.key] !== state || !state.onlyPlainPushes {
                dropPlainQueue(at: plainSweepCursor)  // gone (FLUSHDB), or the engine uses it now: kept for good
                continue
            }
            if list(state.key) != nil {
                state.listGoneSince = 0
            } else if state.listGoneSince == 0 {
                state.listGoneSince = now
            } else if now - state.listGoneSince >= JobEngine.plainQueueLinger && !servedByPool(state.key) {
                queues[state.key] = nil
                if recentQueue === state { recentQueue = nil }
                dropPlainQueue(at: plainSweepCursor)
                continue
            }
            plainSweepCursor += 1
        }
    }

    private func dropPlainQueue(at index: Int) {
        plainQueues.swapAt(index, plainQueues.count - 1)
        plainQueues.removeLast()
    }

    /// Whether an in-process worker pool takes jobs from the queue.
    func servedByPool(_ key: QueueKey) -> Bool {
        pools.contains { $0.spec.database == key.database && $0.spec.queues.contains(key.name) }
    }
}

/// Where a queue's jobs live when its list moves. RENAME and MOVE carry
/// the list, so its pending jobs go along (each record takes the queue it
/// is leased from); the queue's delayed, active and dead jobs stay with the
/// name they were added to. SWAPDB swaps whole databases: every job record,
/// queue state and unique key of one goes to the other.
extension JobEngine {
    /// A job taken from a list that was moved to another database (MOVE).
    func move(_ record: JobRecord, toDatabase database: Int) {
        if let unique = record.options.unique {
            let old = UniqueKey(database: record.database, key: unique)
            if uniqueHolders[old] == record.handle {
                uniqueHolders[old] = nil
                uniqueHolders[UniqueKey(database: database, key: unique)] = record.handle
            }
        }
        record.database = database
    }

    /// SWAPDB a b: the engine's side of the databases trade places too.
    public func swapDatabases(_ a: Int, _ b: Int) {
        guard a != b else { return }
        func swapped(_ database: Int) -> Int { database == a ? b : database == b ? a : database }
        for record in records.values where record.database == a || record.database == b {
            record.database = swapped(record.database)
        }
        var movedQueues: [QueueKey: QueueState] = [:]
        movedQueues.reserveCapacity(queues.count)
        for (key, state) in queues {
            let moved = QueueKey(database: swapped(key.database), name: key.name)
            state.key = moved
            movedQueues[moved] = state
        }
        queues = movedQueues
        var movedHolders: [UniqueKey: UInt64] = [:]
        for (key, handle) in uniqueHolders { movedHolders[UniqueKey(database: swapped(key.database), key: key.key)] = handle }
        uniqueHolders = movedHolders
        recentQueue = nil
    }
}
