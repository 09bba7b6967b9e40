import JobdStore
import JobdSystem

/// The log records of job state changes: `JOBD <verb> ...` commands in
/// the append-only log, compact (a handle and the facts that cannot be
/// recomputed: times, random retry delays, ids), and their replay.
///
///     JOBD ADD handle created queue payload [JOB.ADD options with AT]
///     JOBD LEASE queue level handle id now deadline
///     JOBD ACK handle now result
///     JOBD FAIL handle now retryAt|-1 error
///     JOBD REQUEUE handle
///     JOBD PROMOTE handle now
///     JOBD FINISH handle expired|canceled now
///     JOBD RETRY handle now
///     JOBD FORGET handle
///     JOBD QUEUE queue PAUSE|RESUME|PRIORITY p|RATE n/s|CONCURRENCY n
///     JOBD PURGE queue [DEAD]
///     JOBD CRON name spec queue payload created [options]
///     JOBD CRONDEL name / JOBD CRONRAN name at
public enum JobLogRecords {
    static func b(_ s: String) -> [UInt8] { Array(s.utf8) }
    static func n(_ v: Int64) -> [UInt8] { Array(String(v).utf8) }
    static func n(_ v: UInt64) -> [UInt8] { Array(String(v).utf8) }

    static func add(_ record: JobRecord, request: JobEngine.AddRequest) -> [[UInt8]] {
        var request = request
        request.runAt = record.state == .delayed ? record.scheduledAt : nil
        request.id = record.id
        return [b("ADD"), n(record.handle), n(record.createdAt), record.queue, request.payload]
            + JobRequestParser.words(request)
    }

    static func lease(_ r: JobRecord, level: Int, now: Int64) -> [[UInt8]] {
        [b("LEASE"), r.queue, n(Int64(level)), n(r.handle), r.id, n(now), n(r.leaseDeadline)]
    }

    static func ack(_ r: JobRecord, now: Int64) -> [[UInt8]] { [b("ACK"), n(r.handle), n(now), r.result ?? []] }

    static func fail(_ r: JobRecord, error: [UInt8], retryAt: Int64, now: Int64) -> [[UInt8]] {
        [b("FAIL"), n(r.handle), n(now), n(retryAt), error]
    }

    static func requeue(_ r: JobRecord) -> [[UInt8]] { [b("REQUEUE"), n(r.handle)] }
    static func promote(_ r: JobRecord) -> [[UInt8]] { [b("PROMOTE"), n(r.handle), n(r.scheduledAt)] }
    static func finish(_ r: JobRecord, now: Int64) -> [[UInt8]] { [b("FINISH"), n(r.handle), b(r.state.rawValue), n(now)] }
    static func retry(_ r: JobRecord, now: Int64) -> [[UInt8]] { [b("RETRY"), n(r.handle), n(now)] }
    static func forget(_ r: JobRecord) -> [[UInt8]] { [b("FORGET"), n(r.handle)] }

    static func queueSetting(_ key: QueueKey, _ words: String...) -> [[UInt8]] {
        [b("QUEUE"), key.name] + words.map { b($0) }
    }

    public static func purge(_ name: [UInt8], dead: Bool) -> [[UInt8]] {
        [b("JOBD"), b("PURGE"), name] + (dead ? [b("DEAD")] : [])
    }

    static func cron(_ e: CronTable.Entry) -> [[UInt8]] {
        [b("CRON"), e.name, b(e.schedule.source), e.request.queue, e.request.payload, n(e.lastRun)] + e.optionWords
    }

    static func cronDelete(_ name: [UInt8]) -> [[UInt8]] { [b("CRONDEL"), name] }
    static func cronRan(_ name: [UInt8], at: Int64) -> [[UInt8]] { [b("CRONRAN"), name, n(at)] }
}

extension JobEngine {
    /// Replays one `JOBD` record (`words` starts at the verb), in database `database`.
    public func replay(_ words: [[UInt8]], database: Int, now: Int64) throws(JobError) {
        func text(_ i: Int) throws(JobError) -> String {
            guard i < words.count else { throw JobError("ERR JOBD record too short") }
            return String(decoding: words[i], as: UTF8.self)
        }
        func int(_ i: Int) throws(JobError) -> Int64 {
            guard i < words.count, let v = Numbers.parseInt64(words[i]) else { throw JobError("ERR JOBD record: bad number at \(i)") }
            return v
        }
        func record(_ i: Int) throws(JobError) -> JobRecord {
            guard let r = records[UInt64(try int(i))] else { throw JobError("ERR JOBD record names an unknown job") }
            return r
        }
        let verb = try text(0).uppercased()
        switch verb {
        case "ADD":
            guard words.count >= 5 else { throw JobError("ERR JOBD ADD record too short") }
            let request = try JobRequestParser.parse(queue: words[3], payload: words[4], words: words[5...], now: now)
            let handle = UInt64(try int(1))
            if let id = request.id, let old = job(id) { forget(old) }
            applyAdd(request, database: database, handle: handle, createdAt: try int(2), now: now)
        case "LEASE":
            let key = QueueKey(database: database, name: words[1])
            let level = Int(try int(2))
            guard PriorityLevels.range.contains(level), let (_, list) = list(key), list.count(at: level) > 0 else {
                throw JobError("ERR JOBD LEASE of a job that is not in its queue")
            }
            applyLease(key, level: level, handle: UInt64(try int(3)), id: words[4], leaseMillis: nil, holder: 0,
                       now: try int(5), deadline: try int(6))
        case "ACK":
            let r = try record(1)
            guard r.state == .active else { throw JobError("ERR JOBD ACK of a job that is not active") }
            applyAck(r, result: words.count > 3 ? words[3] : [], now: try int(2))
        case "FAIL":
            let r = try record(1)
            guard r.state == .active else { throw JobError("ERR JOBD FAIL of a job that is not active") }
            applyFail(r, error: words.count > 4 ? words[4] : [], retryAt: try int(3), now: try int(2))
        case "REQUEUE":
            let r = try record(1)
            guard r.state == .active else { throw JobError("ERR JOBD REQUEUE of a job that is not active") }
            applyRequeue(r, now: now)
        case "PROMOTE":
            let r = try record(1)
            guard r.state == .delayed else { throw JobError("ERR JOBD PROMOTE of a job that is not delayed") }
            applyPromote(r, now: try int(2))
        case "FINISH":
            let r = try record(1)
            guard let state = JobState(rawValue: try text(2)), state == .expired || state == .canceled,
                  r.state.canMove(to: state) else { throw JobError("ERR JOBD FINISH: bad state") }
            applyFinish(r, as: state, now: try int(3))
        case "RETRY":
            let r = try record(1)
            guard r.state.isFinished || r.state == .delayed else { throw JobError("ERR JOBD RETRY of an unfinished job") }
            applyRetry(r, now: try int(2))
        case "FORGET":
            forget(try record(1))
        case "QUEUE":
            guard words.count >= 3 else { throw JobError("ERR JOBD QUEUE record too short") }
            let key = QueueKey(database: database, name: words[1])
            switch try text(2).uppercased() {
            case "PAUSE": queueState(key).paused = true
            case "RESUME": queueState(key).paused = false
            case "PRIORITY": queueState(key).defaultPriority = Int(try int(3))
            case "RATE": applyRate(queueState(key), try RateLimit.parse(words.count > 3 ? words[3] : []), now: now)
            case "CONCURRENCY":
                let limit = try int(3)
                guard (0...Int64(QueueSpec.maxConcurrency)).contains(limit) else { throw JobError("ERR JOBD QUEUE: bad concurrency") }
                applyConcurrency(queueState(key), Int(limit))
            default: throw JobError("ERR JOBD QUEUE: unknown setting")
            }
        case "PURGE":
            purge(QueueKey(database: database, name: words[1]), dead: words.count > 2, now: now)
        case "CRON":
            guard words.count >= 6 else { throw JobError("ERR JOBD CRON record too short") }
            let schedule: CronSchedule
            let spec = try text(2)
            do throws(CronSpecError) { schedule = try CronSchedule(parsing: spec) } catch { throw JobError("ERR JOBD CRON: \(error.message)") }
            let options = Array(words[6...])
            let request = try JobRequestParser.parse(queue: words[3], payload: words[4], words: options[...], now: now,
                                                     allowID: false, allowSchedule: false)
            applyCron(name: words[1], schedule: schedule, database: database, request: request, optionWords: options,
                      lastRun: try int(5), now: now)
        case "PUT":
            try replayPut(Array(words.dropFirst()), database: database, now: now)
        case "LISTPUSH":
            try replayListPush(Array(words.dropFirst()), database: database)
        case "CRONDEL":
            applyCronDelete(words[1])
        case "CRONRAN":
            applyCronRan(words[1], at: try int(2))
        default:
            throw JobError("ERR unknown JOBD record '\(verb)'")
        }
    }

    /// After the log is loaded: jobs that were active when the server
    /// stopped go back to pending (their attempt counted), and cron timers resume.
    public func finishLoading(now: Int64) {
        for record in records.values.sorted(by: { $0.handle < $1.handle }) where record.state == .active {
            applyRequeue(record, now: now)
            log(record.database, JobLogRecords.requeue(record))
        }
        rescheduleCron()
    }
}
