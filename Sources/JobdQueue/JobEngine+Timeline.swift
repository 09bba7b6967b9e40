import JobdStore

/// Deadlines coming due, and the operator's verbs: cancel, retry, purge,
/// requeue dead letters.
extension JobEngine {
    /// Runs everything due at `now`: promotions, lease ends, TTLs, forgetting, cron, flow-control wakes.
    public func advance(now: Int64) {
        while let entry = timeline.popDue(now) {
            if entry.kind == .cron {
                fireCron(entry, now: now)
                continue
            }
            if entry.kind == .flow {
                flowWakeDue(entry)
                continue
            }
            guard let record = records[entry.subject] else { continue }
            switch entry.kind {
            case .due where record.state == .delayed && record.scheduledAt == entry.at:
                applyPromote(record, now: now)
                log(record.database, JobLogRecords.promote(record))
            case .leaseEnd where record.state == .active && record.leaseDeadline == entry.at:
                // A lease that runs out is a failed attempt: retried with backoff, or dead.
                failAttempt(record, error: Array("lease expired".utf8), retryIn: nil, dead: false, now: now)
            case .ttl where (record.state == .pending || record.state == .delayed) && record.expiresAt == entry.at:
                applyFinish(record, as: .expired, now: now)
                log(record.database, JobLogRecords.finish(record, now: now))
            case .forget where record.state.isFinished && record.state != .dead && record.forgetAt == entry.at:
                forget(record)
                log(record.database, JobLogRecords.forget(record))
            default:
                continue  // superseded: the job moved on since this entry was scheduled
            }
        }
    }

    /// The next deadline (Unix ms), for the loop's epoll timeout.
    public var nextDeadline: Int64? { timeline.nextDeadline }

    func applyPromote(_ record: JobRecord, now: Int64) {
        queueState(record).delayed -= 1
        record.move(to: .pending)
        record.scheduledAt = now
        pushPending(record, payload: record.payload ?? [], frontOfLine: false, now: now)
    }

    /// Pending or delayed (or, for cancel, active) → expired or canceled.
    func applyFinish(_ record: JobRecord, as state: JobState, now: Int64) {
        let queue = queueState(record)
        switch record.state {
        case .pending:
            if let (entry, list) = list(QueueKey(database: record.database, name: record.queue)) {
                // Take the element out with the payload it holds (LSET may have changed it).
                if let payload = list.removeTagged(record.handle) { record.payload = payload }
                if list.isEmpty { keyspace[record.database].remove(entry) }
            }
        case .delayed: queue.delayed -= 1
        case .active: endLease(record)
        default: break
        }
        record.move(to: state)
        record.finishedAt = now
        if state == .expired { queue.expired += 1; totals.expired += 1 } else { queue.canceled += 1; totals.canceled += 1 }
        scheduleForget(record, now: now)
        onFinished?(record)
    }

    /// JOB.CANCEL: a job that has not finished will not run (again).
    public func cancel(_ id: [UInt8], now: Int64) throws(JobError) -> JobRecord {
        guard let record = job(id) else { throw JobError("ERR no such job '\(JobEngine.shown(id))'") }
        guard !record.state.isFinished else {
            throw JobError("ERR job '\(JobEngine.shown(id))' is already \(record.state.rawValue)")
        }
        if record.state == .active && record.leaseHolder < 0 { stopRunningJob(record) }
        applyFinish(record, as: .canceled, now: now)
        log(record.database, JobLogRecords.finish(record, now: now))
        return record
    }

    /// JOB.RETRY: a finished job runs again (attempts start over); a delayed one runs now.
    public func retry(_ id: [UInt8], now: Int64) throws(JobError) -> JobRecord {
        guard let record = job(id) else { throw JobError("ERR no such job '\(JobEngine.shown(id))'") }
        guard record.state.isFinished || record.state == .delayed else {
            throw JobError("ERR job '\(JobEngine.shown(id))' is \(record.state.rawValue); only finished or delayed jobs can be retried")
        }
        applyRetry(record, now: now)
        log(record.database, JobLogRecords.retry(record, now: now))
        return record
    }

    func applyRetry(_ record: JobRecord, now: Int64) {
        if record.state == .delayed {
            applyPromote(record, now: now)
            return
        }
        if record.state == .dead { queueState(record).dead.removeAll { $0 == record.handle } }
        record.attempts = 0
        record.result = nil
        record.finishedAt = 0
        record.forgetAt = 0
        record.startedAt = 0
        record.createdAt = now  // a TTL counts from the new start
        record.move(to: .pending)
        record.scheduledAt = now
        register(record)  // takes its unique key back
        pushPending(record, payload: record.payload ?? [], frontOfLine: false, now: now)
        if record.expiresAt > 0 { timeline.schedule(.ttl, record.handle, at: record.expiresAt) }
    }

    // MARK: Queue operations

    /// QUEUE.PURGE: drops the waiting jobs (pending and delayed), or with `dead` the dead letters; returns how many.
    @discardableResult
    public func purge(_ key: QueueKey, dead: Bool, now: Int64) -> Int {
        var removed = 0
        if dead {
            for handle in queues[key]?.dead ?? [] {
                guard let record = records[handle] else { continue }
                forget(record)
                removed += 1
            }
            queues[key]?.dead.removeAll()
        } else {
            for record in records.values where record.state == .delayed && record.database == key.database && record.queue == key.name {
                queueState(key).delayed -= 1
                forget(record)
                removed += 1
            }
            if let (entry, list) = list(key) {
                removed += list.count
                keyspace[key.database].remove(entry)  // tagged records go with it (dropTakenJobs)
            }
            dropTakenJobs()
        }
        return removed
    }

    /// QUEUE.DEAD: up to `count` dead letters, oldest first.
    public func deadLetters(_ key: QueueKey, count: Int) -> [JobRecord] {
        (queues[key]?.dead ?? []).prefix(count).compactMap { records[$0] }
    }

    /// QUEUE.REQUEUE: dead letters (all, or those named) go back to pending; returns how many.
    public func requeueDead(_ key: QueueKey, ids: [[UInt8]]?, now: Int64) -> Int {
        let handles: [UInt64]
        if let ids {
            handles = ids.compactMap { id in job(id).flatMap { $0.state == .dead && $0.database == key.database && $0.queue == key.name ? $0.handle : nil } }
        } else {
            handles = queues[key]?.dead ?? []
        }
        var moved = 0
        for handle in handles {
            guard let record = records[handle], record.state == .dead else { continue }
            applyRetry(record, now: now)
            log(record.database, JobLogRecords.retry(record, now: now))
            moved += 1
        }
        return moved
    }

    /// QUEUE.PAUSE / QUEUE.RESUME.
    public func setPaused(_ key: QueueKey, _ paused: Bool) {
        queueState(key).paused = paused
        log(key.database, JobLogRecords.queueSetting(key, paused ? "PAUSE" : "RESUME"))
        if !paused { onReady?(key) }
    }

    /// QUEUE.CONFIG q PRIORITY p.
    public func setDefaultPriority(_ key: QueueKey, _ level: Int) {
        queueState(key).defaultPriority = level
        log(key.database, JobLogRecords.queueSetting(key, "PRIORITY", String(level)))
    }

    /// FLUSHDB / FLUSHALL: every job of the database goes (its lists already went).
    public func removeAll(database: Int?) {
        dropTakenJobs()
        for record in records.values where database == nil || record.database == database {
            forget(record)
        }
        for key in queues.keys where database == nil || key.database == database { queues[key] = nil }
        flowWakes = flowWakes.filter { queues[$0.value.key] === $0.value }
        recentQueue = nil
        for pool in pools where database == nil || pool.spec.database == database { pool.abandonRunning() }
        for (holder, handles) in leasesByHolder {
            let kept = handles.filter { records[$0] != nil }
            leasesByHolder[holder] = kept.isEmpty ? nil : kept
        }
    }

    /// Samples counters for rates (called about once a second).
    public func sampleRates(now: Int64) {
        for queue in queues.values { queue.rates.sample(now, enqueued: queue.enqueued, completed: queue.completed) }
    }
}

extension JobEngine {
    /// How long the oldest pending job of the queue has waited (ms), when known.
    public func oldestPendingAge(_ state: QueueState, list: ListValue?, now: Int64) -> Int? {
        guard let list else { return nil }
        var oldest: Int64?
        for level in PriorityLevels.range where list.count(at: level) > 0 {
            state.arrivals[level].reconcile(list.count(at: level))
            if let arrived = state.arrivals[level].oldest { oldest = min(oldest ?? arrived, arrived) }
        }
        return oldest.map { Int(max(0, now - $0)) }
    }
}
