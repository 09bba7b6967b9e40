import JobdQueue
import JobdRESP
import JobdStore
import JobdSystem

/// The JSON API (docs/http-api.md). Every endpoint runs the RESP command an
/// operator would type (QUEUE.STATS, QUEUE.PAUSE, JOB.RETRY…) as an
/// internal client of database 0, so answers, checks, logging and
/// durability are exactly those of the command.
extension Server {
    func api(_ request: HTTPRequest, _ path: [String]) -> HTTPResponse {
        let isRead = request.method == "GET" || request.method == "HEAD"
        let isPost = request.method == "POST"
        switch path.count {
        case 1 where path[0] == "server":
            return isRead ? .json(serverSummary()) : methodNotAllowed("GET, HEAD")
        case 1 where path[0] == "queues":
            guard isRead else { return methodNotAllowed("GET, HEAD") }
            return .json(.object([("queues", .array(monitoredQueueNames(keyspace[0]).map { queueJSON($0) }))]))
        case 1 where path[0] == "workers":
            guard isRead else { return methodNotAllowed("GET, HEAD") }
            return .json(.object([("pools", .array(jobs.pools.map(workerPoolJSON)))]))
        case 2 where path[0] == "queues":
            guard isRead else { return methodNotAllowed("GET, HEAD") }
            guard let name = existingQueue(path[1]) else { return .error(404, "no such queue") }
            return .json(queueJSON(name))
        case 3 where path[0] == "queues" && path[2] == "dead":
            guard isRead else { return methodNotAllowed("GET, HEAD") }
            guard let name = existingQueue(path[1]) else { return .error(404, "no such queue") }
            var count = 50
            if let text = request.queryValue("count") {
                guard let n = Int(text), (1...10_000).contains(n) else { return .error(400, "count must be 1 to 10000") }
                count = n
            }
            return deadLetters(name, count: count)
        case 3 where path[0] == "queues":
            guard isPost else { return methodNotAllowed("POST") }
            guard let name = existingQueue(path[1]) else { return .error(404, "no such queue") }
            switch path[2] {
            case "pause": return action("QUEUE.PAUSE", .raw(name), field: nil)
            case "resume": return action("QUEUE.RESUME", .raw(name), field: nil)
            case "purge": return action("QUEUE.PURGE", .raw(name), field: "purged")
            default: return .error(404, "not found")
            }
        case 4 where path[0] == "queues" && path[2] == "dead":
            guard isPost else { return methodNotAllowed("POST") }
            guard let name = existingQueue(path[1]) else { return .error(404, "no such queue") }
            switch path[3] {
            case "requeue": return action("QUEUE.REQUEUE", .raw(name), "ALL", field: "requeued")
            case "purge": return action("QUEUE.PURGE", .raw(name), "DEAD", field: "purged")
            default: return .error(404, "not found")
            }
        case 2 where path[0] == "jobs":
            guard isRead else { return methodNotAllowed("GET, HEAD") }
            return job(Array(path[1].utf8))
        case 3 where path[0] == "jobs":
            guard isPost else { return methodNotAllowed("POST") }
            let id = Array(path[1].utf8)
            switch path[2] {
            case "retry": return action("JOB.RETRY", .raw(id), field: nil)
            case "cancel": return action("JOB.CANCEL", .raw(id), field: nil)
            default: return .error(404, "not found")
            }
        default:
            return .error(404, "not found")
        }
    }

    // MARK: Endpoints

    private func queueJSON(_ name: [UInt8]) -> JSONValue {
        guard case let .object(fields) = command("QUEUE.STATS", .raw(name)) else { return .null }
        var out: [(String, JSONValue)] = [("name", .text(name))]
        for (key, value) in fields {
            switch key {
            case "paused": out.append((key, .bool(value.isTrue)))
            case "workers":
                guard case let .array(pools) = value else { continue }
                let workers = pools.reduce(Int64(0)) { sum, pool in
                    if case let .integer(n)? = pool["concurrency"] { return sum + n }
                    return sum
                }
                out.append((key, .integer(workers)))
            case "pending_by_priority":
                // Only the levels that hold jobs: the dashboard shows a short breakdown.
                guard case let .object(levels) = value else { continue }
                out.append((key, .object(levels.filter { if case .integer(0) = $0.1 { false } else { true } })))
            default: out.append((key, value))
            }
        }
        return .object(out)
    }

    /// QUEUE.DEAD's letters, with every kept error (not only the last).
    private func deadLetters(_ queue: [UInt8], count: Int) -> HTTPResponse {
        let letters = jobs.deadLetters(QueueKey(database: 0, name: queue), count: count).map { job -> JSONValue in
            let payload = job.payload ?? []
            return .object([
                ("id", .text(job.id)),
                ("payload", .text(Array(payload.prefix(4096)))),
                ("payload_size", .int(payload.count)),
                ("attempts", .int(job.attempts)),
                ("last_error", job.errors.last.map { .text($0) } ?? .null),
                ("errors", .array(job.errors.map { .text($0) })),
                ("finished_at_ms", .integer(job.finishedAt)),
            ])
        }
        return .json(.object([("queue", .text(queue)), ("jobs", .array(letters))]))
    }

    /// WORKER.LIST's fields for one pool, numbers as numbers and the queues as an array.
    private func workerPoolJSON(_ pool: WorkerPool) -> JSONValue {
        .object(workerPoolFields(pool).map { name, value in
            if name == "queues" { return (name, .array(pool.spec.queues.map { .text($0) })) }
            if let integer = Int64(value) { return (name, .integer(integer)) }
            if let double = Double(value) { return (name, .double(double)) }
            return (name, .string(value))
        })
    }

    /// JOB.INFO as JSON; times of things that did not happen yet are null.
    private func job(_ id: [UInt8]) -> HTTPResponse {
        let reply = command("JOB.INFO", .raw(id))
        if case let .string(message)? = reply["error"] { return .error(404, message) }
        guard case let .object(fields) = reply else { return .error(500, "unexpected reply") }
        let renamed = ["created": "created_at_ms", "scheduled": "scheduled_at_ms", "started": "started_at_ms",
                       "finished": "finished_at_ms", "lease_deadline": "lease_deadline_ms", "expires": "expires_at_ms"]
        var out: [(String, JSONValue)] = []
        for (key, value) in fields {
            if let name = renamed[key] {
                if case .integer(0) = value { out.append((name, .null)) } else { out.append((name, value)) }
            } else {
                out.append((key, value))
            }
        }
        return .json(.object(out))
    }

    /// A POST: runs the command; an error reply is 409 (404 for an unknown
    /// job); an integer reply goes into `field`.
    private func action(_ words: ScriptWord..., field: String?) -> HTTPResponse {
        let reply = command(words)
        if case let .string(message)? = reply["error"] {
            return .error(message.contains("no such job") ? 404 : 409, message)
        }
        var fields: [(String, JSONValue)] = [("ok", .bool(true))]
        if let field { fields.append((field, reply)) }
        return .json(.object(fields))
    }

    /// The overview the dashboard's header shows, from INFO's fields.
    private func serverSummary() -> JSONValue {
        var info: [String: String] = [:]
        for line in ServerInfo.text(self, sections: ["server", "clients", "memory", "persistence", "stats", "jobs"])
            .split(separator: "\r\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { info[String(parts[0])] = String(parts[1]) }
        }
        func number(_ key: String) -> JSONValue { .integer(Int64(info[key] ?? "") ?? 0) }
        return .object([
            ("version", .string(ServerInfo.jobdVersion)),
            ("uptime_seconds", number("uptime_in_seconds")),
            ("clients", number("connected_clients")),
            ("used_memory", number("used_memory")),
            ("maxmemory", number("maxmemory")),
            ("ops_per_sec", number("instantaneous_ops_per_sec")),
            ("loading", .bool(loading)),
            ("shutting_down", .bool(shutdownRequested)),
            ("aof", .object([
                ("enabled", .bool(aof != nil)),
                ("fsync", .string(config.appendFsync.rawValue)),
                ("size", number("aof_current_size")),
                ("last_write_status", .string(info["aof_last_write_status"] ?? "ok")),
                ("fsync_lag_ms", .integer(fsyncLagMillis)),
            ])),
            ("jobs", .object([
                ("queues", number("queues")), ("pending", number("jobs_pending")), ("delayed", number("jobs_delayed")),
                ("active", number("jobs_active")), ("completed", number("total_jobs_completed")),
                ("failed", number("total_jobs_failed")), ("dead", number("jobs_dead")),
            ])),
        ])
    }

    /// How long the running fsync has taken so far (0 when none is running).
    var fsyncLagMillis: Int64 {
        guard let started = aof?.state.fsyncStartedMillis.load(ordering: .relaxed), started != 0 else { return 0 }
        return max(0, Clock.monotonicNanos() / 1_000_000 - started)  // the sync thread stamps monotonic ms
    }

    // MARK: Helpers

    private func existingQueue(_ name: String) -> [UInt8]? {
        // A list key, or a queue the engine keeps counters for (what monitoredQueueNames lists).
        let key = QueueKey(database: 0, name: Array(name.utf8))
        return jobs.list(key) != nil || jobs.queue(key) != nil ? key.name : nil
    }
}

extension JSONValue {
    /// 1, true or "1".
    var isTrue: Bool {
        switch self {
        case let .integer(n): n != 0
        case let .bool(b): b
        case let .string(s): s == "1"
        default: false
        }
    }
}

extension Array where Element == [UInt8] {
    func contains(_ bytes: [UInt8]) -> Bool { contains { $0 == bytes } }
}
