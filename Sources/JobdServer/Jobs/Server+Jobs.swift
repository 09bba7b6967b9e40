import JobdPersistence
import JobdQueue
import JobdRESP
import JobdStore
import JobdSystem

/// How the job engine is wired into the server: its log records go to the
/// append-only log, its ready queues wake blocked JOB.GETs, finished jobs
/// answer JOB.RESULT WAIT, closed connections give their leases back, and
/// its timeline runs every loop turn.
extension Server {
    func connectJobEngine() {
        jobs.settings.leaseTimeout = config.leaseTimeout
        jobs.settings.resultTTL = config.resultTTL
        jobs.settings.priorityAging = config.priorityAging
        jobs.onRecord = { [unowned self] database, encode in self.log(database, encode) }
        jobs.onReady = { [unowned self] key in self.blocking.keyReady(database: key.database, key: key.name) }
        jobs.onFinished = { [unowned self] record in self.answerResultWaiters(record) }
    }

    /// The config's `queue` lines, after the log: the file wins for the settings it names.
    func applyQueueSettings() {
        for spec in config.queues { jobs.apply(spec, database: 0, now: keyspace.now) }
    }

    /// Every loop turn: jobs that plain list commands took, then due deadlines.
    func advanceJobs() {
        jobs.dropTakenJobs()
        guard let next = jobs.nextDeadline, next <= keyspace.now, !loading else { return }
        jobs.advance(now: keyspace.now)
        if blocking.hasReadyKeys { serveReadyKeys() }
    }

    /// A blocked JOB.GET whose queue may have a job: lease and answer, or keep waiting.
    func serveJobLease(_ client: Client, _ command: BlockedCommand, count: Int, lease: Int64?) {
        guard !shutdownRequested else { return }
        let leased = jobs.lease(database: command.database, from: command.keys, count: count, leaseMillis: lease,
                                holder: client.id, now: keyspace.now)
        guard !leased.isEmpty else { return }
        JobCommands.replyJobs(writer(for: client), leased)
        finishServing(client)
    }

    /// JOB.RESULT id WAIT ms: blocks the client until the job finishes.
    func waitForResult(_ call: Call, job: JobRecord, deadline: Int64) {
        if executingTransaction { return call.reply.nullBulk() }
        let serial = blocking.makeSerial()
        blocking.block(call.client, BlockedCommand(action: .waitResult(job: job.handle), keys: [], database: call.client.databaseIndex,
                                                   deadline: deadline, serial: serial))
        resultWaiters[job.handle, default: []].append(call.client)
        if deadline > 0 { timeouts.insert(deadline, BlockTimeout(client: call.client, serial: serial)) }
    }

    func answerResultWaiters(_ record: JobRecord) {
        guard let waiters = resultWaiters.removeValue(forKey: record.handle) else { return }
        for client in waiters {
            guard !client.closeNow, case let .waitResult(handle)? = client.blocked?.action, handle == record.handle else { continue }
            JobCommands.replyResult(writer(for: client), record)
            finishServing(client)
        }
    }

    /// The connection is closing: its leases end and the jobs go back to their queues.
    func releaseJobsOf(_ client: Client) {
        jobs.releaseLeases(of: client.id, now: keyspace.now)
        if case let .waitResult(handle)? = client.blocked?.action {
            resultWaiters[handle]?.removeAll { $0 === client }
            if resultWaiters[handle]?.isEmpty == true { resultWaiters[handle] = nil }
        }
    }

    /// The engine's state of the queue a push names, made on the first push.
    @inline(__always)
    func queueForPush(_ call: Call) -> QueueState {
        jobs.queueForPush(database: call.client.databaseIndex, call.args[1])
    }

    // MARK: INFO

    func jobsInfoFields() -> [(String, String)] {
        let t = jobs.totals
        let totals = jobs.queueTotals
        var pending = 0
        var queues = 0
        for db in keyspace.databases {
            db.forEachLive { entry in if case let .list(list) = entry.value { pending += list.count } }
            queues += queueNames(db).count
        }
        return [
            ("queues", String(queues)),
            ("jobs_pending", String(pending)),
            ("jobs_delayed", String(totals.delayed)),
            ("jobs_active", String(totals.active)),
            ("jobs_dead", String(totals.dead)),
            ("jobs_completed_kept", String(jobs.count(in: .completed))),
            ("job_records", String(jobs.jobCount)),
            ("job_records_evicted", String(jobs.evictedRecords)),
            ("total_jobs_added", String(t.added)),
            ("total_jobs_leased", String(t.leased)),
            ("total_jobs_completed", String(t.completed)),
            ("total_jobs_failed", String(t.failed)),
            ("total_jobs_retried", String(t.retried)),
            ("total_jobs_dead", String(t.dead)),
            ("total_jobs_expired", String(t.expired)),
            ("total_jobs_canceled", String(t.canceled)),
            ("lease_holders", String(jobs.leaseHolderCount)),
            ("cron_entries", String(jobs.cron.count)),
            ("timeline_entries", String(jobs.timeline.count)),
            ("priority_aging", String(config.priorityAging)),
            ("worker_pools", String(jobs.pools.count)),
            ("workers", String(jobs.pools.reduce(0) { $0 + $1.concurrency })),
            ("workers_busy", String(jobs.pools.reduce(0) { $0 + $1.busyWorkers })),
        ] + workerPoolInfoLines()
    }
}

extension Server {
    /// The queues of a database (QUEUE.LIST, INFO): its list keys, the
    /// queues with jobs outside their list, and the empty queues that have
    /// settings (QUEUE.CONFIG, QUEUE.PAUSE) or a worker pool. O(keys).
    func queueNames(_ db: Database) -> Set<[UInt8]> {
        var names = Set<[UInt8]>()
        db.forEachLive { entry in if entry.value.isList { names.insert(entry.key) } }
        for (key, state) in jobs.queues where key.database == db.index
            && (state.active > 0 || state.delayed > 0 || !state.dead.isEmpty || state.hasSettings) {
            names.insert(key.name)
        }
        for pool in jobs.pools where pool.spec.database == db.index { names.formUnion(pool.spec.queues) }
        return names
    }

    /// QUEUE.LIST's names plus every queue the engine keeps counters for,
    /// sorted: metrics and the dashboard keep showing a queue once emptied.
    func monitoredQueueNames(_ db: Database) -> [[UInt8]] {
        var names = queueNames(db)
        for key in jobs.queues.keys where key.database == db.index { names.insert(key.name) }
        return names.sorted { $0.lexicographicallyPrecedes($1) }
    }
}
