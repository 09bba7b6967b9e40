import JobdQueue
import JobdRESP
import JobdStore
import JobdSystem

/// QUEUE.*: looking at and operating whole queues; CRON.*: periodic jobs.
enum QueueCommands {
    static func key(_ call: Call) -> QueueKey { QueueKey(database: call.client.databaseIndex, name: Array(call.args[1])) }

    /// False (after replying WRONGTYPE) when the queue's key holds something other than a list.
    static func isQueueKey(_ call: Call) -> Bool { isQueueKey(call, call.args[1]) }

    static func isQueueKey(_ call: Call, _ name: UnsafeRawBufferPointer) -> Bool {
        if let entry = call.db.peek(name), !entry.value.isList {
            call.wrongType()
            return false
        }
        return true
    }

    /// QUEUE.LIST: every queue of the database: list keys, and queues with jobs outside their list.
    static func list(_ call: Call) {
        let sorted = call.server.queueNames(call.db).sorted { $0.lexicographicallyPrecedes($1) }
        call.reply.arrayHeader(sorted.count)
        for name in sorted { call.reply.bulk(name) }
    }

    /// QUEUE.STATS queue: a map of counts, rates, the oldest pending job's age, pools and flow-control limits.
    static func stats(_ call: Call) {
        guard isQueueKey(call) else { return }
        let key = key(call)
        let jobs = call.server.jobs
        let state = jobs.queue(key)
        let list = jobs.list(key)?.1
        let reply = call.reply
        reply.mapHeader(20)
        func field(_ name: StaticString, _ value: Int) { reply.bulk(name); reply.integer(value) }
        field("pending", list?.count ?? 0)
        reply.bulk("pending_by_priority")
        reply.mapHeader(PriorityLevels.range.count)
        for level in PriorityLevels.range {
            reply.bulk(String(level))
            reply.integer(list?.count(at: level) ?? 0)
        }
        field("delayed", state?.delayed ?? 0)
        field("active", state?.active ?? 0)
        field("completed", state?.completed ?? 0)
        field("failed", state?.failed ?? 0)
        field("dead", state?.dead.count ?? 0)
        field("expired", state?.expired ?? 0)
        field("canceled", state?.canceled ?? 0)
        field("enqueued", state?.enqueued ?? 0)
        reply.bulk("enqueue_rate")
        reply.double(state?.enqueueRate ?? 0)
        reply.bulk("complete_rate")
        reply.double(state?.completeRate ?? 0)
        field("oldest_pending_ms", state.flatMap { jobs.oldestPendingAge($0, list: list, now: call.now) } ?? 0)
        field("paused", state?.paused == true ? 1 : 0)
        field("default_priority", state?.defaultPriority ?? PriorityLevels.defaultLevel)
        field("leased", state?.leased ?? 0)
        // The in-process worker pools that serve this queue.
        let pools = jobs.pools.filter { $0.spec.database == key.database && $0.spec.queues.contains(key.name) }
        reply.bulk("workers")
        reply.arrayHeader(pools.count)
        for pool in pools { WorkerCommands.replyPool(reply, call.server.workerPoolFields(pool)) }
        // Flow control, appended so that readers of the older fields are not disturbed.
        reply.bulk("rate_limit")
        reply.bulk(state?.rateLimit?.text ?? "")
        field("concurrency_limit", state?.concurrencyLimit ?? 0)
        field("throttled", state?.throttled ?? 0)
    }

    /// QUEUE.PAUSE queue / QUEUE.RESUME queue
    static func pause(_ call: Call) {
        guard isQueueKey(call) else { return }
        call.server.jobs.setPaused(key(call), call.spec.name == "queue.pause")
        call.reply.ok()
    }

    /// QUEUE.CONFIG queue [PRIORITY p] [RATE n/s|n/m|n/h|0] [CONCURRENCY n]: sets
    /// what is named (all or nothing: one bad value changes nothing); with
    /// no options replies the queue's settings.
    static func config(_ call: Call) {
        guard isQueueKey(call) else { return }
        let key = key(call)
        let jobs = call.server.jobs
        if call.count == 2 { return replySettings(call.reply, jobs.queue(key)) }
        var priority: Int?
        var rate: RateLimit??
        var concurrency: Int?
        var i = 2
        while i < call.count {
            let option = String(decoding: call.args[i].prefix(16), as: UTF8.self).uppercased()
            guard ["PRIORITY", "RATE", "CONCURRENCY"].contains(option) else {
                return call.reply.error("ERR unknown option '\(Server.shown(call.args[i], limit: 64))'; expected PRIORITY, RATE or CONCURRENCY")
            }
            guard i + 1 < call.count else { return call.reply.error("ERR \(option) needs a value") }
            let value = call.args[i + 1]
            switch option {
            case "PRIORITY":
                guard let level = Numbers.parseInt64(value), (0...10).contains(level) else {
                    return call.reply.error("ERR PRIORITY must be an integer from 0 (most urgent) to 10")
                }
                priority = Int(level)
            case "RATE":
                do throws(JobError) { rate = .some(try RateLimit.parse(Array(value))) } catch { return call.reply.error(error.text) }
            default:
                guard let n = Numbers.parseInt64(value), (0...Int64(QueueSpec.maxConcurrency)).contains(n) else {
                    return call.reply.error("ERR CONCURRENCY must be an integer from 0 (no limit) to \(QueueSpec.maxConcurrency)")
                }
                concurrency = Int(n)
            }
            i += 2
        }
        if let priority { jobs.setDefaultPriority(key, priority) }
        if let rate { jobs.setRate(key, rate, now: call.now) }
        if let concurrency { jobs.setConcurrency(key, concurrency) }
        call.reply.ok()
    }

    /// QUEUE.CONFIG queue: priority, rate ("" for none), concurrency (0 for none), paused.
    static func replySettings(_ reply: ReplyWriter, _ state: QueueState?) {
        reply.mapHeader(4)
        reply.bulk("priority")
        reply.integer(state?.defaultPriority ?? PriorityLevels.defaultLevel)
        reply.bulk("rate")
        reply.bulk(state?.rateLimit?.text ?? "")
        reply.bulk("concurrency")
        reply.integer(state?.concurrencyLimit ?? 0)
        reply.bulk("paused")
        reply.integer(state?.paused == true ? 1 : 0)
    }

    /// QUEUE.PURGE queue [DEAD]: replies how many jobs were dropped.
    static func purge(_ call: Call) {
        guard isQueueKey(call) else { return }
        var dead = false
        if call.count == 3 {
            guard ASCII.equalsIgnoringCase(call.args[2], "DEAD") else { return call.syntaxError() }
            dead = true
        } else if call.count > 3 {
            return call.wrongArity()
        }
        let key = key(call)
        call.server.log(key.database) { e in
            let words = JobLogRecords.purge(key.name, dead: dead)
            e.begin(words.count)
            for w in words { e.argument(w) }
        }
        call.reply.integer(call.server.jobs.purge(key, dead: dead, now: call.now))
    }

    /// QUEUE.DEAD queue [COUNT n]: dead letters as [id, payload, attempts, last error, finished].
    static func dead(_ call: Call) {
        guard isQueueKey(call) else { return }
        var count = 100
        if call.count != 2 {
            guard call.count == 4, ASCII.equalsIgnoringCase(call.args[2], "COUNT") else { return call.syntaxError() }
            guard let n = Numbers.parseInt64(call.args[3]), n >= 1, n <= 1_000_000 else {
                return call.reply.error("ERR COUNT must be an integer from 1 to 1000000")
            }
            count = Int(n)
        }
        let letters = call.server.jobs.deadLetters(key(call), count: count)
        call.reply.arrayHeader(letters.count)
        for job in letters {
            call.reply.arrayHeader(5)
            call.reply.bulk(job.id)
            call.reply.bulk(job.payload ?? [])
            call.reply.integer(job.attempts)
            if let error = job.errors.last { call.reply.bulk(error) } else { call.reply.nullBulk() }
            call.reply.integer(job.finishedAt)
        }
    }

    /// QUEUE.REQUEUE queue [id ... | ALL]: dead letters back to pending; replies how many.
    static func requeue(_ call: Call) {
        guard isQueueKey(call) else { return }
        var ids: [[UInt8]]? = (2..<call.count).map { Array(call.args[$0]) }
        if call.count == 2 || (call.count == 3 && ASCII.equalsIgnoringCase(call.args[2], "ALL")) { ids = nil }
        call.reply.integer(call.server.jobs.requeueDead(key(call), ids: ids, now: call.now))
    }

    // MARK: Cron

    /// CRON.ADD name spec queue payload [JOB.ADD options]
    static func cronAdd(_ call: Call) {
        let spec = String(decoding: call.args[2], as: UTF8.self)
        let schedule: CronSchedule
        do throws(CronSpecError) { schedule = try CronSchedule(parsing: spec) } catch {
            return call.reply.error("ERR invalid cron spec '\(Server.shown(call.args[2], limit: 64))': \(error.message)")
        }
        let words = (5..<call.count).map { Array(call.args[$0]) }
        JobCommands.run(call) { () throws(JobError) in
            let request = try JobRequestParser.parse(queue: Array(call.args[3]), payload: Array(call.args[4]), words: words[...],
                                                     now: call.now, allowID: false, allowSchedule: false)
            call.server.jobs.addCron(name: Array(call.args[1]), schedule: schedule, database: call.client.databaseIndex,
                                     request: request, optionWords: words, now: call.now)
            call.reply.ok()
        }
    }

    /// CRON.LIST: [name, spec, queue, payload, next run, last run, [options]] per entry.
    static func cronList(_ call: Call) {
        let entries = call.server.jobs.cron.sortedEntries
        call.reply.arrayHeader(entries.count)
        for entry in entries {
            call.reply.arrayHeader(7)
            call.reply.bulk(entry.name)
            call.reply.bulk(entry.schedule.source)
            call.reply.bulk(entry.request.queue)
            call.reply.bulk(entry.request.payload)
            call.reply.integer(entry.nextRun ?? -1)
            call.reply.integer(entry.lastRun)
            call.reply.arrayHeader(entry.optionWords.count)
            for word in entry.optionWords { call.reply.bulk(word) }
        }
    }

    /// CRON.DEL name: 1 when it existed.
    static func cronDelete(_ call: Call) {
        call.reply.integer(call.server.jobs.removeCron(Array(call.args[1])) ? 1 : 0)
    }

    /// JOBD ...: a job log record; runs only while the log is loaded.
    static func logRecord(_ call: Call) {
        guard call.server.loading else {
            return call.reply.error("ERR JOBD is an internal append-only log record and cannot be called")
        }
        let words = (1..<call.count).map { Array(call.args[$0]) }
        JobCommands.run(call) { () throws(JobError) in
            try call.server.jobs.replay(words, database: call.client.databaseIndex, now: call.now)
            call.reply.ok()
        }
    }
}
