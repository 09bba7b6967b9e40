import JobdStore

/// Leasing jobs to workers and what workers say back: ack, fail, touch;
/// and giving jobs back when a worker's connection goes away.
extension JobEngine {
    /// Takes up to `count` jobs, most urgent first across `names` (ties
    /// by the order given), and leases them to `holder`.
    public func lease(database: Int, from names: [[UInt8]], count: Int, leaseMillis: Int64?, holder: Int64,
                      now: Int64) -> [JobRecord] {
        if names.count == 1 && settings.priorityAging == 0 {
            return lease(from: QueueKey(database: database, name: names[0]), count: count, leaseMillis: leaseMillis,
                         holder: holder, now: now)
        }
        var leased: [JobRecord] = []
        while leased.count < count, let (key, level, state) = mostUrgent(database: database, names, now: now) {
            if let (_, list) = list(key) { recordWait(queueState(key), list: list, level: level, now: now) }
            let record = applyLease(key, level: level, handle: nil, id: nil, leaseMillis: leaseMillis, holder: holder, now: now)
            if let state, state.isLimited { tookFlowLease(state) }
            log(database, JobLogRecords.lease(record, level: level, now: now))
            leased.append(record)
        }
        return leased
    }

    /// JOB.GET from one queue without aging (the usual worker): the queue and
    /// its list are looked up once for the whole batch, not once per job.
    private func lease(from key: QueueKey, count requested: Int, leaseMillis: Int64?, holder: Int64, now: Int64) -> [JobRecord] {
        let known = queue(key)
        if known?.paused == true { return [] }
        guard let (entry, list) = list(key) else { return [] }
        var count = requested
        if let known, known.isLimited {
            let allowance = flowAllowance(known, now: now)
            if allowance < count && allowance < list.count { heldBack(known) }
            count = min(count, allowance)
        }
        let state = known ?? queueState(key)
        var leased: [JobRecord] = []
        leased.reserveCapacity(min(count, list.count))
        while leased.count < count, let level = list.mostUrgentLevel {
            recordWait(state, list: list, level: level, now: now)
            let record = applyLease(key, level: level, handle: nil, id: nil, leaseMillis: leaseMillis, holder: holder, now: now,
                                    found: (state, entry, list))
            if state.isLimited { tookFlowLease(state) }
            log(key.database, JobLogRecords.lease(record, level: level, now: now))
            leased.append(record)
        }
        // Held back with jobs left: asking again schedules the wake at the next token.
        if state.isLimited && leased.count < requested && !list.isEmpty { _ = flowAllowance(state, now: now) }
        return leased
    }

    /// Adds the wait of the job about to be leased from `level` to its queue's histogram.
    private func recordWait(_ queue: QueueState, list: ListValue, level: Int, now: Int64) {
        var since = queue.arrivals[level].oldest
        if list.taggedCount > 0, let tag = list.peekOldestTag(at: level), tag != 0, let record = records[tag] {
            since = record.scheduledAt
        }
        queue.waitTime.record(millis: now - (since ?? now))
    }

    /// The queue and level to take from (and the queue's state, if it has
    /// one): the most urgent level across the queues that may lease now,
    /// where aging makes a level that has waited count as more urgent.
    func mostUrgent(database: Int, _ names: [[UInt8]], now: Int64) -> (QueueKey, Int, QueueState?)? {
        var best: (key: QueueKey, level: Int, urgency: Int64, state: QueueState?)?
        for name in names {
            let key = QueueKey(database: database, name: name)
            let state = queues[key]
            if state?.paused == true { continue }
            guard let (_, list) = list(key) else { continue }
            if let state, state.isLimited, flowAllowance(state, now: now) == 0 {
                heldBack(state)
                continue
            }
            for level in PriorityLevels.range {
                let waiting = list.count(at: level)
                guard waiting > 0 else { continue }
                var urgency = Int64(level)
                if settings.priorityAging > 0, let state {
                    state.arrivals[level].reconcile(waiting)
                    if let arrived = state.arrivals[level].oldest {
                        urgency -= max(0, now - arrived) / settings.priorityAging
                    }
                }
                if best == nil || urgency < best!.urgency { best = (key, level, urgency, state) }
                if settings.priorityAging == 0 { break }  // without aging the first level found is the most urgent
            }
        }
        return best.map { ($0.key, $0.level, $0.state) }
    }

    /// Takes the oldest job of `level` from the queue's list and makes it active.
    /// `handle`/`id` are given when replaying the log (the job had no record yet).
    @discardableResult
    func applyLease(_ key: QueueKey, level: Int, handle: UInt64?, id: [UInt8]?, leaseMillis: Int64?, holder: Int64,
                    now: Int64, deadline: Int64? = nil, onTimeline: Bool = true,
                    found: (QueueState, KeyEntry, ListValue)? = nil) -> JobRecord {
        let queue: QueueState, entry: KeyEntry, list: ListValue
        if let found {
            (queue, entry, list) = found
        } else {
            queue = queueState(key)
            (entry, list) = self.list(key)!
        }
        let record: JobRecord = list.popOldest(at: level) { data, tag in
            if tag != 0, let existing = records[tag] {
                existing.payload = Array(data)
                return existing
            }
            let newHandle = handle ?? (tag != 0 ? tag : self.newHandle())
            let record = JobRecord(handle: newHandle, customID: id.flatMap { JobRecord.customID($0, handle: newHandle) }, database: key.database,
                                   queue: key.name, state: .pending, priority: level, options: JobOptions(),
                                   createdAt: now, scheduledAt: now)
            record.payload = Array(data)
            record.fromPlainPush = true
            register(record)
            return record
        }!
        if list.isEmpty { keyspace[key.database].remove(entry) }
        queue.arrivals[level].reconcile(list.count(at: level))
        // A job whose list was renamed or moved (RENAME, MOVE) belongs to the queue it was taken from.
        record.queue = key.name
        if record.database != key.database { move(record, toDatabase: key.database) }
        record.move(to: .active)
        record.attempts += 1
        record.startedAt = now
        let length = leaseMillis ?? (record.options.timeout > 0 ? record.options.timeout : settings.leaseTimeout)
        record.leaseDeadline = deadline ?? now + length
        record.leaseHolder = holder
        // Clients (positive ids) give their leases back when they disconnect; pools track their own.
        if holder > 0 { leasesByHolder[holder, default: []].insert(record.handle) }
        queue.active += 1
        queue.leased += 1
        totals.leased += 1
        // In-process workers enforce their own timeouts (an exec'd program is killed).
        if onTimeline { timeline.schedule(.leaseEnd, record.handle, at: record.leaseDeadline) }
        return record
    }

    /// The active job `id` held by `holder`, or the error to reply.
    func leasedJob(_ id: [UInt8], holder: Int64) throws(JobError) -> JobRecord {
        try leasedJob(id.withUnsafeBytes { job(bytes: $0) }, id: id, holder: holder)
    }

    /// `record`, found by `id`, if it is active and leased by `holder`; else the error to reply.
    private func leasedJob(_ record: JobRecord?, id: @autoclosure () -> [UInt8], holder: Int64) throws(JobError) -> JobRecord {
        guard let record else { throw JobError("ERR no such job '\(JobEngine.shown(id()))'") }
        guard record.state == .active, record.leaseHolder == holder else { throw leaseError(record, id: id()) }
        return record
    }

    private func leaseError(_ record: JobRecord, id: [UInt8]) -> JobError {
        guard record.state == .active else {
            return JobError("ERR job '\(JobEngine.shown(id))' is \(record.state.rawValue), not active")
        }
        return JobError("NOLEASE job '\(JobEngine.shown(id))' is leased by another connection")
    }

    static func shown(_ bytes: [UInt8]) -> String { String(decoding: bytes.prefix(128), as: UTF8.self) }

    // MARK: Outcomes

    /// JOB.ACK: the job completed; `result` is kept for its RESULTTTL.
    public func ack(_ id: [UInt8], result: [UInt8], holder: Int64, now: Int64) throws(JobError) {
        try ack(leasedJob(id, holder: holder), result: result, now: now)
    }

    /// JOB.ACK with the id as the command's argument bytes (no copy unless there is an error).
    public func ack(bytes id: UnsafeRawBufferPointer, result: [UInt8], holder: Int64, now: Int64) throws(JobError) {
        try ack(leasedJob(job(bytes: id), id: Array(id), holder: holder), result: result, now: now)
    }

    private func ack(_ record: JobRecord, result: [UInt8], now: Int64) {
        queueState(record).runTime.record(millis: now - record.startedAt)
        applyAck(record, result: result, now: now)
        log(record.database, JobLogRecords.ack(record, now: now))
    }

    func applyAck(_ record: JobRecord, result: [UInt8], now: Int64) {
        endLease(record)
        record.move(to: .completed)
        record.result = result
        record.finishedAt = now
        queueState(record).completed += 1
        totals.completed += 1
        onFinished?(record)
        // Nobody holds the id of a plainly pushed job that left no result:
        // keeping its record for result-ttl would only fill memory.
        if record.fromPlainPush && result.isEmpty {
            forget(record)
        } else {
            scheduleForget(record, now: now)
        }
    }

    /// JOB.FAIL: retried after its backoff (or `retryIn`) while retries are left, else dead.
    public func fail(_ id: [UInt8], error: [UInt8], retryIn: Int64?, dead: Bool, holder: Int64, now: Int64) throws(JobError) {
        let record = try leasedJob(id, holder: holder)
        queueState(record).runTime.record(millis: now - record.startedAt)
        failAttempt(record, error: error, retryIn: retryIn, dead: dead, now: now)
    }

    /// A failed attempt (JOB.FAIL or a lease that ran out): decides the retry time, applies and logs it.
    /// `defaultRetries` applies to a job with no RETRIES of its own (an in-process pool's `retries`).
    func failAttempt(_ record: JobRecord, error: [UInt8], retryIn: Int64?, dead: Bool, now: Int64, defaultRetries: Int = 0) {
        var retryAt: Int64 = -1
        if !dead {
            if let retryIn {
                retryAt = now + retryIn
            } else if record.attempts <= (record.options.maxRetries > 0 ? record.options.maxRetries : defaultRetries) {
                let o = record.options
                retryAt = now + RetryBackoff.delay(attempt: record.attempts, base: o.backoff, max: o.backoffMax,
                                                   jitter: o.jitter, using: &random)
            }
        }
        applyFail(record, error: error, retryAt: retryAt, now: now)
        log(record.database, JobLogRecords.fail(record, error: error, retryAt: retryAt, now: now))
    }

    /// `retryAt` < 0: dead.
    func applyFail(_ record: JobRecord, error: [UInt8], retryAt: Int64, now: Int64) {
        endLease(record)
        record.recordError(error)
        let queue = queueState(record)
        queue.failed += 1
        totals.failed += 1
        if retryAt < 0 {
            record.move(to: .dead)
            record.finishedAt = now
            queue.dead.append(record.handle)
            totals.dead += 1
            onFinished?(record)
        } else if retryAt <= now {
            totals.retried += 1
            record.move(to: .pending)
            pushPending(record, payload: record.payload ?? [], frontOfLine: false, now: now)
        } else {
            totals.retried += 1
            record.move(to: .delayed)
            record.scheduledAt = retryAt
            queue.delayed += 1
            timeline.schedule(.due, record.handle, at: retryAt)
        }
    }

    /// JOB.TOUCH: extends the lease by `millis` from now (or by its original length); returns the new deadline.
    public func touch(_ id: [UInt8], millis: Int64?, holder: Int64, now: Int64) throws(JobError) -> Int64 {
        let record = try leasedJob(id, holder: holder)
        let length = millis ?? max(0, record.leaseDeadline - record.startedAt)
        record.leaseDeadline = now + length
        timeline.schedule(.leaseEnd, record.handle, at: record.leaseDeadline)
        return record.leaseDeadline
    }

    /// The connection `holder` closed: its leased jobs go back to the front of their queues.
    public func releaseLeases(of holder: Int64, now: Int64) {
        guard let handles = leasesByHolder.removeValue(forKey: holder) else { return }
        for handle in handles.sorted() {
            guard let record = records[handle], record.state == .active else { continue }
            record.leaseHolder = 0
            applyRequeue(record, now: now)
            log(record.database, JobLogRecords.requeue(record))
        }
    }

    /// An active job goes back to pending, first in line, its attempt counted.
    func applyRequeue(_ record: JobRecord, now: Int64) {
        endLease(record)
        record.move(to: .pending)
        pushPending(record, payload: record.payload ?? [], frontOfLine: true, now: now)
    }

    func endLease(_ record: JobRecord) {
        if record.state == .active {
            let queue = queueState(record)
            queue.active -= 1
            leaseEnded(queue)
        }
        // One lookup of the holder's set (this runs for every ack).
        if record.leaseHolder > 0, let index = leasesByHolder.index(forKey: record.leaseHolder) {
            leasesByHolder.values[index].remove(record.handle)
            if leasesByHolder.values[index].isEmpty { leasesByHolder.remove(at: index) }
        }
        record.leaseHolder = 0
        record.leaseDeadline = 0
    }

    func queueState(_ record: JobRecord) -> QueueState {
        queueState(QueueKey(database: record.database, name: record.queue))
    }

    func scheduleForget(_ record: JobRecord, now: Int64) {
        let ttl = record.options.resultTTL ?? settings.resultTTL
        record.forgetAt = now + max(0, ttl)
        timeline.schedule(.forget, record.handle, at: record.forgetAt)
        noteKept(record)
    }

    /// Clients holding leases (for INFO).
    public var leaseHolderCount: Int { leasesByHolder.count }
}
