import JobdStore

/// Flow control: a queue's rate limit (a token bucket) and concurrency
/// limit (most jobs active at once) hold leases back — JOB.GET and
/// in-process workers alike; plain list pops are not leases and are never
/// held back. A queue with no limit costs the dispatch path one check of
/// `isLimited`.
///
/// A lease held back by the rate puts a wake on the timeline for the next
/// token, so the loop sleeps until then and blocked JOB.GETs are served
/// when it comes; one held back by concurrency is woken when one of the
/// queue's leases ends (`leaseEnded`).
extension JobEngine {
    /// How many jobs `queue` may lease now (call only when `queue.isLimited`).
    func flowAllowance(_ queue: QueueState, now: Int64) -> Int {
        var allowance = Int.max
        if queue.flow.concurrency > 0 {
            allowance = max(0, queue.flow.concurrency - queue.active)
            // No timer: the end of a lease wakes the queue.
            if allowance == 0 { return 0 }
        }
        if queue.flow.bucket != nil {
            let tokens = queue.flow.bucket!.tokens(now: now)
            if tokens == 0 { scheduleFlowWake(queue, at: queue.flow.bucket!.nextTokenAt(now: now)) }
            allowance = min(allowance, tokens)
        }
        return allowance
    }

    /// A lease of a limited queue was made: it takes a token.
    func tookFlowLease(_ queue: QueueState) {
        if queue.flow.bucket != nil { queue.flow.bucket!.take() }
    }

    /// A lease of `queue` was held back by its limits (QUEUE.STATS throttled).
    func heldBack(_ queue: QueueState) { queue.flow.throttled += 1 }

    /// A job of a queue with a concurrency limit stopped being active: a
    /// blocked JOB.GET may take the freed place (in-process pools refill every turn anyway).
    @inline(__always)
    func leaseEnded(_ queue: QueueState) {
        if queue.flow.concurrency > 0 { onReady?(queue.key) }
    }

    private func scheduleFlowWake(_ queue: QueueState, at time: Int64) {
        // One wake per queue at a time: a later one would only be a stale heap entry.
        if queue.flow.wakeAt != 0 && queue.flow.wakeAt <= time { return }
        queue.flow.wakeAt = time
        flowWakes[queue.serial] = queue
        timeline.schedule(.flow, queue.serial, at: time)
    }

    /// A flow wake came due: the queue has a token again.
    func flowWakeDue(_ entry: Timeline.Entry) {
        guard let queue = flowWakes[entry.subject], queue.flow.wakeAt == entry.at else { return }  // superseded
        flowWakes[entry.subject] = nil
        queue.flow.wakeAt = 0
        // A queue dropped by FLUSHDB meanwhile has nobody left to wake.
        if queues[queue.key] === queue { onReady?(queue.key) }
    }

    // MARK: Settings

    /// QUEUE.CONFIG q RATE n/s (nil: no limit). A new limit starts with a full bucket.
    public func setRate(_ key: QueueKey, _ limit: RateLimit?, now: Int64) {
        let queue = queueState(key)
        guard queue.rateLimit != limit else { return }
        applyRate(queue, limit, now: now)
        log(key.database, JobLogRecords.queueSetting(key, "RATE", limit?.text ?? "0"))
    }

    /// QUEUE.CONFIG q CONCURRENCY n (0: no limit).
    public func setConcurrency(_ key: QueueKey, _ limit: Int) {
        let queue = queueState(key)
        guard queue.flow.concurrency != limit else { return }
        applyConcurrency(queue, limit)
        log(key.database, JobLogRecords.queueSetting(key, "CONCURRENCY", String(limit)))
    }

    func applyRate(_ queue: QueueState, _ limit: RateLimit?, now: Int64) {
        queue.flow.bucket = limit.map { TokenBucket($0, now: now) }
        flowSettingsChanged(queue)
    }

    func applyConcurrency(_ queue: QueueState, _ limit: Int) {
        queue.flow.concurrency = limit
        flowSettingsChanged(queue)
    }

    private func flowSettingsChanged(_ queue: QueueState) {
        queue.isLimited = queue.flow.isLimited
        // A looser limit may let waiting JOB.GETs have jobs now.
        onReady?(queue.key)
    }

    /// A `queue` line of the config file: each setting it names, logged when it changes one.
    public func apply(_ spec: QueueSpec, database: Int, now: Int64) {
        let key = QueueKey(database: database, name: spec.name)
        let queue = queueState(key)
        if let priority = spec.priority, priority != queue.defaultPriority { setDefaultPriority(key, priority) }
        if let rate = spec.rate { setRate(key, rate, now: now) }
        if let concurrency = spec.concurrency { setConcurrency(key, concurrency) }
        if let paused = spec.paused, paused != queue.paused { setPaused(key, paused) }
    }

    /// The settings records of a queue, for a log rewrite (empty for a queue with the defaults).
    func settingRecords(_ queue: QueueState) -> [[[UInt8]]] {
        let key = queue.key
        var records: [[[UInt8]]] = []
        if queue.defaultPriority != PriorityLevels.defaultLevel {
            records.append(JobLogRecords.queueSetting(key, "PRIORITY", String(queue.defaultPriority)))
        }
        if queue.paused { records.append(JobLogRecords.queueSetting(key, "PAUSE")) }
        if let rate = queue.rateLimit { records.append(JobLogRecords.queueSetting(key, "RATE", rate.text)) }
        if queue.flow.concurrency > 0 {
            records.append(JobLogRecords.queueSetting(key, "CONCURRENCY", String(queue.flow.concurrency)))
        }
        return records
    }
}
