import JobdQueue
import JobdRESP
import JobdStore
import JobdSystem

/// JOB.*: adding jobs, leasing them to external workers, and what workers
/// and operators do with a job afterwards. The engine (JobdQueue) decides;
/// these functions parse arguments and shape replies.
enum JobCommands {
    static func bytes(_ call: Call, _ i: Int) -> [UInt8] { Array(call.args[i]) }

    /// Runs `body`, replying the engine's error if it throws one.
    static func run(_ call: Call, _ body: () throws(JobError) -> Void) {
        do throws(JobError) { try body() } catch { call.reply.error(error.text) }
    }

    /// JOB.ADD queue payload [options]
    static func add(_ call: Call) {
        let server = call.server
        guard call.args[2].count <= server.config.protoMaxBulkLen else { return call.reply.error(Errors.tooBig) }
        run(call) { () throws(JobError) in
            let words = (3..<call.count).map { bytes(call, $0) }
            let request = try JobRequestParser.parse(queue: bytes(call, 1), payload: bytes(call, 2), words: words[...], now: call.now)
            guard QueueCommands.isQueueKey(call) else { return }
            let (record, _) = try server.jobs.add(request, database: call.client.databaseIndex, now: call.now)
            call.reply.bulk(record.id)
        }
    }

    private enum GetOption { case block, count, lease }

    /// JOB.GET [BLOCK ms] [COUNT n] [LEASE ms] FROM queue [queue ...]
    static func get(_ call: Call) {
        var block: Int64?
        var count = 1
        var lease: Int64?
        var i = 1
        var queues: [[UInt8]] = []
        while i < call.count {
            let word = call.args[i]
            if ASCII.equalsIgnoringCase(word, "FROM") {
                queues = (i + 1..<call.count).map { bytes(call, $0) }
                break
            }
            // Options compared in place: this runs once per worker round trip.
            let option: GetOption? = ASCII.equalsIgnoringCase(word, "BLOCK") ? .block
                : ASCII.equalsIgnoringCase(word, "COUNT") ? .count : ASCII.equalsIgnoringCase(word, "LEASE") ? .lease : nil
            guard i + 1 < call.count else {
                let shown = String(decoding: word.prefix(8), as: UTF8.self).uppercased()
                return call.reply.error("ERR \(shown.isEmpty ? "option" : shown) needs a value")
            }
            let value = Numbers.parseInt64(call.args[i + 1])
            switch option {
            case .block:
                guard let value, value >= 0 else { return call.reply.error("ERR BLOCK must be an integer of milliseconds >= 0 (0 waits forever)") }
                block = value
            case .count:
                guard let value, value >= 1, value <= 100_000 else { return call.reply.error("ERR COUNT must be an integer from 1 to 100000") }
                count = Int(value)
            case .lease:
                guard let value, value >= 1, value <= Int64.max / 4 else { return call.reply.error("ERR LEASE must be an integer of milliseconds > 0") }
                lease = value
            case nil:
                return call.reply.error("ERR unknown option '\(Server.shown(call.args[i], limit: 64))'; expected BLOCK, COUNT, LEASE or FROM")
            }
            i += 2
        }
        guard !queues.isEmpty else { return call.reply.error("ERR JOB.GET needs FROM queue [queue ...]") }
        for name in queues where !name.withUnsafeBytes({ QueueCommands.isQueueKey(call, $0) }) { return }
        let server = call.server
        // Shutting down: nothing more is leased (running jobs are finishing).
        if server.shutdownRequested { return replyJobs(call.reply, []) }
        let jobs = server.jobs.lease(database: call.client.databaseIndex, from: queues, count: count, leaseMillis: lease,
                                     holder: call.client.id, now: call.now)
        if !jobs.isEmpty || block == nil {
            return replyJobs(call.reply, jobs)
        }
        let deadline = block! == 0 ? 0 : call.now + block!
        server.block(call, keys: queues, deadline: deadline, action: .leaseJobs(count: count, lease: lease))
    }

    static func replyJobs(_ reply: ReplyWriter, _ jobs: [JobRecord]) {
        reply.arrayHeader(jobs.count)
        for job in jobs {
            reply.arrayHeader(4)
            reply.bulk(job.queue)
            if let custom = job.customID { reply.bulk(custom) } else { reply.bulkDecimal(Int64(job.handle)) }
            reply.bulk(job.payload ?? [])
            reply.integer(job.attempts)
        }
    }

    /// JOB.ACK id [result]
    static func ack(_ call: Call) {
        if call.count > 3 { return call.wrongArity() }
        run(call) { () throws(JobError) in
            try call.server.jobs.ack(bytes: call.args[1], result: call.count == 3 ? bytes(call, 2) : [], holder: call.client.id, now: call.now)
            call.reply.ok()
        }
    }

    /// JOB.FAIL id [error] [RETRYIN ms | DEAD]
    static func fail(_ call: Call) {
        var error: [UInt8] = []
        var retryIn: Int64?
        var dead = false
        var i = 2
        if i < call.count, !isFailOption(call.args[i]) { error = bytes(call, i); i += 1 }
        while i < call.count {
            let option = String(decoding: call.args[i].prefix(8), as: UTF8.self).uppercased()
            if option == "DEAD" {
                dead = true
                i += 1
            } else if option == "RETRYIN" {
                guard i + 1 < call.count, let ms = Numbers.parseInt64(call.args[i + 1]), ms >= 0, ms <= Int64.max / 4 else {
                    return call.reply.error("ERR RETRYIN must be an integer of milliseconds >= 0")
                }
                retryIn = ms
                i += 2
            } else {
                return call.reply.error("ERR unknown option '\(Server.shown(call.args[i], limit: 64))'; expected RETRYIN ms or DEAD")
            }
        }
        if dead && retryIn != nil { return call.reply.error("ERR RETRYIN and DEAD cannot both be given") }
        run(call) { () throws(JobError) in
            try call.server.jobs.fail(bytes(call, 1), error: error, retryIn: retryIn, dead: dead, holder: call.client.id, now: call.now)
            call.reply.ok()
        }
    }

    static func isFailOption(_ word: UnsafeRawBufferPointer) -> Bool {
        ASCII.equalsIgnoringCase(word, "DEAD") || ASCII.equalsIgnoringCase(word, "RETRYIN")
    }

    /// JOB.TOUCH id [ms]: replies the lease's new deadline (Unix ms).
    static func touch(_ call: Call) {
        if call.count > 3 { return call.wrongArity() }
        var millis: Int64?
        if call.count == 3 {
            guard let ms = Numbers.parseInt64(call.args[2]), ms >= 1, ms <= Int64.max / 4 else {
                return call.reply.error("ERR lease extension must be an integer of milliseconds > 0")
            }
            millis = ms
        }
        run(call) { () throws(JobError) in
            call.reply.integer(try call.server.jobs.touch(bytes(call, 1), millis: millis, holder: call.client.id, now: call.now))
        }
    }

    /// JOB.CANCEL id
    static func cancel(_ call: Call) {
        run(call) { () throws(JobError) in
            _ = try call.server.jobs.cancel(bytes(call, 1), now: call.now)
            call.reply.ok()
        }
    }

    /// JOB.RETRY id
    static func retry(_ call: Call) {
        run(call) { () throws(JobError) in
            _ = try call.server.jobs.retry(bytes(call, 1), now: call.now)
            call.reply.ok()
        }
    }

    /// JOB.INFO id: a map (RESP3) or flat array (RESP2) of the job's fields.
    static func info(_ call: Call) {
        guard let job = call.server.jobs.job(bytes(call, 1)) else {
            return call.reply.error("ERR no such job '\(Server.shown(call.args[1], limit: 128))'")
        }
        let reply = call.reply
        let o = job.options
        reply.mapHeader(20)
        func field(_ name: StaticString, _ value: Int64) { reply.bulk(name); reply.integer(value) }
        func field(_ name: StaticString, _ value: [UInt8]?) {
            reply.bulk(name)
            if let value { reply.bulk(value) } else { reply.nullBulk() }
        }
        field("id", job.id)
        field("state", Array(job.state.rawValue.utf8))
        field("queue", job.queue)
        field("priority", Int64(job.priority))
        field("attempts", Int64(job.attempts))
        field("max_retries", Int64(o.maxRetries))
        field("created", job.createdAt)
        field("scheduled", job.scheduledAt)
        field("started", job.startedAt)
        field("finished", job.finishedAt)
        field("lease_deadline", job.leaseDeadline)
        field("lease_remaining_ms", job.state == .active ? max(0, job.leaseDeadline - call.now) : 0)
        field("expires", job.expiresAt)
        field("last_error", job.errors.last)
        reply.bulk("errors")
        reply.arrayHeader(job.errors.count)
        for error in job.errors { reply.bulk(error) }
        field("result_size", Int64(job.result?.count ?? -1))
        field("backoff", o.backoff)
        field("timeout", o.timeout)
        field("ttl", o.ttl)
        field("unique", o.unique)
    }

    /// JOB.RESULT id [WAIT ms]: the result once completed; null while unfinished; an error if it did not complete.
    static func result(_ call: Call) {
        var wait: Int64?
        if call.count != 2 {
            guard call.count == 4, ASCII.equalsIgnoringCase(call.args[2], "WAIT") else { return call.syntaxError() }
            guard let ms = Numbers.parseInt64(call.args[3]), ms >= 0, ms <= Int64.max / 4 else {
                return call.reply.error("ERR WAIT must be an integer of milliseconds >= 0 (0 waits forever)")
            }
            wait = ms
        }
        guard let job = call.server.jobs.job(bytes(call, 1)) else {
            return call.reply.error("ERR no such job '\(Server.shown(call.args[1], limit: 128))'")
        }
        if job.state.isFinished || wait == nil { return replyResult(call.reply, job) }
        call.server.waitForResult(call, job: job, deadline: wait! == 0 ? 0 : call.now + wait!)
    }

    static func replyResult(_ reply: ReplyWriter, _ job: JobRecord) {
        switch job.state {
        case .completed: reply.bulk(job.result ?? [])
        case .dead:
            let error = job.errors.last.map { String(decoding: $0.prefix(200), as: UTF8.self) } ?? ""
            reply.error("ERR job '\(String(decoding: job.id.prefix(128), as: UTF8.self))' is dead: \(error)")
        case .expired, .canceled:
            reply.error("ERR job '\(String(decoding: job.id.prefix(128), as: UTF8.self))' was \(job.state.rawValue)")
        case .pending, .delayed, .active: reply.nullBulk()
        }
    }
}
