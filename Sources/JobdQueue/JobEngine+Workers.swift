import JobdStore
import Synchronization

/// Jobs leased to in-process workers. A plainly pushed job goes to a
/// worker without a record: its slot holds what a record would (handle,
/// level, attempt, payload), so the common case — LPUSH, run, done —
/// allocates nothing in the engine. A record is made only when one is
/// needed: the job fails, is looked up (JOB.INFO), canceled, or handed back.
/// The log sees the same LEASE and ACK records either way, so replaying
/// them (which does make records) ends in the same state.
extension JobEngine {
    /// Fills `slots[0..<count]` with the most urgent ready jobs across
    /// `names`, leased to the pool `holder`; returns how many were filled.
    /// A pool of one queue without aging looks the queue up once per call.
    func leaseToWorkers(_ slots: [WorkerSlot], count: Int, database: Int, names: [[UInt8]], holder: Int64,
                        timeoutMillis: Int64, now: Int64) -> Int {
        guard names.count == 1 && settings.priorityAging == 0 else {
            var filled = 0
            while filled < count, let (key, level, _) = mostUrgent(database: database, names, now: now),
                  let (entry, list) = list(key) {
                lease(slots[filled], key, level: level, queue: queueState(key), list: list, entry: entry, holder: holder,
                      timeoutMillis: timeoutMillis, now: now)
                filled += 1
            }
            return filled
        }
        let key = QueueKey(database: database, name: names[0])
        let queue = queueState(key)
        guard !queue.paused, let (entry, list) = list(key) else { return 0 }
        var count = count
        if queue.isLimited {
            let allowance = flowAllowance(queue, now: now)
            if allowance < count && allowance < list.count { heldBack(queue) }
            count = min(count, allowance)
        }
        var filled = 0
        while filled < count, let level = list.mostUrgentLevel {
            lease(slots[filled], key, level: level, queue: queue, list: list, entry: entry, holder: holder,
                  timeoutMillis: timeoutMillis, now: now)
            filled += 1
        }
        return filled
    }

    /// Leases the oldest job of `level` to the worker slot `slot`.
    private func lease(_ slot: WorkerSlot, _ key: QueueKey, level: Int, queue: QueueState, list: ListValue, entry: KeyEntry,
                       holder: Int64, timeoutMillis: Int64, now: Int64) {
        if queue.isLimited { tookFlowLease(queue) }
        if list.taggedCount > 0, let tag = list.peekOldestTag(at: level), tag != 0, let waiting = records[tag] {
            queue.waitTime.record(millis: now - waiting.scheduledAt)
            let record = applyLease(key, level: level, handle: nil, id: nil, leaseMillis: nil, holder: holder, now: now,
                                    onTimeline: false, found: (queue, entry, list))
            slot.hasRecord = true
            slot.handle = record.handle
            slot.customID = record.customID
            slot.attempt = record.attempts
            slot.payload = record.payload ?? []
            record.payload = nil  // the slot holds it while the job runs
            slot.timeoutMillis = record.options.timeout > 0 ? record.options.timeout : timeoutMillis
            log(key.database, JobLogRecords.lease(record, level: level, now: now))
        } else {
            let handle = newHandle()
            queue.waitTime.record(millis: now - (queue.arrivals[level].oldest ?? now))
            list.takeOldest(at: level) { data, _ in slot.payload.replace(with: data) }
            if list.isEmpty { keyspace[key.database].remove(entry) }
            slot.hasRecord = false
            slot.handle = handle
            slot.customID = nil
            slot.attempt = 1
            slot.timeoutMillis = timeoutMillis
            queue.arrivals[level].reconcile(list.count(at: level))
            queue.active += 1
            queue.leased += 1
            totals.leased += 1
            let deadline = timeoutMillis > 0 ? now + timeoutMillis : 0
            logLease(key.database, queue: key.name, level: level, handle: handle, now: now, deadline: deadline)
        }
        slot.queue = key.name
        slot.queueState = queue
        slot.priority = level
        slot.level = level
        slot.cancel.store(false, ordering: .relaxed)
        slot.abandoned = false
    }

    /// A worker handed `slot` back: the job completed, failed, or was not run.
    func workerFinished(_ slot: WorkerSlot, holder: Int64, retries: Int, now: Int64) {
        guard !slot.abandoned else { return }  // its database was flushed meanwhile
        if slot.outcome != .notRun && slot.outcome != .canceled { slot.queueState!.runTime.record(nanos: slot.handlerNanos) }
        if !slot.hasRecord && slot.outcome == .succeeded && slot.result.isEmpty {
            // The common case: no record, nothing to keep.
            let queue = slot.queueState!
            queue.active -= 1
            leaseEnded(queue)
            queue.completed += 1
            totals.completed += 1
            let handle = slot.handle
            logAck(queue.key.database, handle: handle, now: now, result: [])
            return
        }
        let record = slot.hasRecord ? records[slot.handle] : materialize(slot, holder: holder, retries: retries, now: now)
        // Canceled or expired while it ran: the outcome no longer matters.
        guard let record, record.state == .active, record.leaseHolder == holder else { return }
        if record.payload == nil { record.payload = slot.payload }
        switch slot.outcome {
        case .succeeded:
            applyAck(record, result: slot.result, now: now)
            logAck(record.database, handle: record.handle, now: now, result: slot.result)
        case .failed, .timedOut:
            failAttempt(record, error: slot.error, retryIn: nil, dead: false, now: now, defaultRetries: retries)
        case .canceled, .notRun:
            endLeaseAndRequeue(record, now: now)
        }
    }

    /// Gives the plainly pushed job running in `slot` a record (it needs one now).
    @discardableResult
    func materialize(_ slot: WorkerSlot, holder: Int64, retries: Int, now: Int64) -> JobRecord {
        precondition(!slot.hasRecord)
        var options = JobOptions()
        options.maxRetries = retries
        let record = JobRecord(handle: slot.handle, customID: nil, database: slot.queueState!.key.database, queue: slot.queue,
                               state: .pending, priority: slot.level, options: options,
                               createdAt: now, scheduledAt: now)
        record.fromPlainPush = true
        record.payload = slot.payload
        record.move(to: .active)
        record.attempts = slot.attempt
        record.startedAt = now
        record.leaseHolder = holder
        register(record)
        slot.hasRecord = true
        return record
    }

    /// Starts a pool of in-process workers; `wake` is how they wake the engine thread.
    public func startPool(_ spec: WorkerPoolSpec, wake: EngineWake) throws -> WorkerPool {
        let pool = WorkerPool(spec: spec, holderID: -Int64(poolsStarted + 1), wake: wake)
        try pool.scale(to: spec.concurrency)
        poolsStarted += 1
        pools.append(pool)
        return pool
    }

    /// Removes a drained pool once nothing of it runs (a reload dropped its `worker` line).
    public func removePool(_ pool: WorkerPool) {
        precondition(pool.draining && pool.isIdle, "only a drained, idle pool can be removed")
        pool.stopAll()
        pools.removeAll { $0 === pool }
    }

    /// A running job handed back unfinished (shutdown, scale down, cancel of a pool): pending again, first in line.
    func endLeaseAndRequeue(_ record: JobRecord, now: Int64) {
        applyRequeue(record, now: now)
        log(record.database, JobLogRecords.requeue(record))
    }

    /// Shutdown: jobs still out with the pool's workers after the grace
    /// period go back to their queues; whatever the workers say later is ignored.
    public func handBackRunning(_ pool: WorkerPool, now: Int64) {
        for slot in pool.slotsInUse where !slot.abandoned {
            let record = slot.hasRecord ? records[slot.handle]
                : materialize(slot, holder: pool.holderID, retries: pool.spec.retries, now: now)
            slot.abandoned = true
            guard let record, record.state == .active, record.leaseHolder == pool.holderID else { continue }
            if record.payload == nil { record.payload = slot.payload }
            endLeaseAndRequeue(record, now: now)
        }
    }

    /// job(id) for a handle with no record: a plain job running in a worker gets one now.
    func recordForRunningPlainJob(_ handle: UInt64) -> JobRecord? {
        for pool in pools {
            if let slot = pool.runningSlot(handle), !slot.hasRecord {
                return materialize(slot, holder: pool.holderID, retries: pool.spec.retries, now: keyspace.now)
            }
        }
        return nil
    }

    /// Stops the job while it runs in a worker (JOB.CANCEL): an exec'd program is terminated.
    func stopRunningJob(_ record: JobRecord) {
        for pool in pools { pool.runningSlot(record.handle)?.cancel.store(true, ordering: .relaxed) }
    }
}
