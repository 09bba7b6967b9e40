import JobdQueue
import JobdStore
import JobdSystem

/// `GET /metrics`: the Prometheus text format 0.0.4, every family with its
/// HELP and TYPE, names `jobd_…` with the unit last (`_seconds`, `_bytes`,
/// counters `_total`). Per-queue families carry `db` and `queue` labels.
extension Server {
    func prometheusMetrics() -> String {
        var out = PrometheusText()
        let now = keyspace.now
        var queues: [(labels: [(String, String)], key: QueueKey, state: QueueState?, list: ListValue?)] = []
        for db in keyspace.databases {
            for name in monitoredQueueNames(db) {
                let key = QueueKey(database: db.index, name: name)
                queues.append(([("db", String(db.index)), ("queue", String(decoding: name, as: UTF8.self))],
                               key, jobs.queue(key), jobs.list(key)?.1))
            }
        }

        out.family("jobd_queue_pending_jobs", "gauge", "Jobs waiting to be leased, by priority level (0 most urgent).")
        for q in queues {
            for level in PriorityLevels.range {
                let count = q.list?.count(at: level) ?? 0
                if count > 0 || level == PriorityLevels.defaultLevel {
                    out.sample("jobd_queue_pending_jobs", q.labels + [("priority", String(level))], count)
                }
            }
        }
        let gauges: [(String, String, (QueueState?, ListValue?) -> Int)] = [
            ("jobd_queue_delayed_jobs", "Jobs waiting for their start time or retry.", { s, _ in s?.delayed ?? 0 }),
            ("jobd_queue_active_jobs", "Jobs leased to a worker and not finished.", { s, _ in s?.active ?? 0 }),
            ("jobd_queue_dead_jobs", "Dead letters kept.", { s, _ in s?.dead.count ?? 0 }),
            ("jobd_queue_paused", "1 when the queue is paused.", { s, _ in s?.paused == true ? 1 : 0 }),
        ]
        for (name, help, value) in gauges {
            out.family(name, "gauge", help)
            for q in queues { out.sample(name, q.labels, value(q.state, q.list)) }
        }
        out.family("jobd_queue_oldest_pending_age_seconds", "gauge", "Age of the oldest pending job.")
        for q in queues {
            let age = q.state.flatMap { jobs.oldestPendingAge($0, list: q.list, now: now) } ?? 0
            out.sample("jobd_queue_oldest_pending_age_seconds", q.labels, Double(age) / 1000)
        }
        let counters: [(String, String, (QueueState) -> Int)] = [
            ("jobd_queue_jobs_enqueued_total", "Jobs added to the queue.", { $0.enqueued }),
            ("jobd_queue_jobs_completed_total", "Jobs completed.", { $0.completed }),
            ("jobd_queue_jobs_failed_total", "Failed attempts.", { $0.failed }),
            ("jobd_queue_jobs_expired_total", "Jobs whose TTL passed before they started.", { $0.expired }),
            ("jobd_queue_jobs_canceled_total", "Jobs canceled.", { $0.canceled }),
        ]
        for (name, help, value) in counters {
            out.family(name, "counter", help)
            for q in queues { out.sample(name, q.labels, q.state.map(value) ?? 0) }
        }
        out.family("jobd_job_wait_seconds", "histogram", "Time from pending to leased (plain pushes: arrival known to the second).")
        for q in queues { out.histogram("jobd_job_wait_seconds", q.labels, q.state?.waitTime ?? LatencyHistogram()) }
        out.family("jobd_job_run_seconds", "histogram", "Time from lease to ack or fail (in-process workers: handler time).")
        for q in queues { out.histogram("jobd_job_run_seconds", q.labels, q.state?.runTime ?? LatencyHistogram()) }

        appendWorkerMetrics(&out)
        appendServerMetrics(&out)
        return out.text
    }

    private func appendWorkerMetrics(_ out: inout PrometheusText) {
        out.family("jobd_worker_pool_workers", "gauge", "In-process worker threads, busy or idle.")
        for pool in jobs.pools {
            let labels = [("pool", pool.spec.name), ("handler", pool.spec.handler.name)]
            out.sample("jobd_worker_pool_workers", labels + [("state", "busy")], pool.busyWorkers)
            out.sample("jobd_worker_pool_workers", labels + [("state", "idle")], pool.concurrency - pool.busyWorkers)
        }
        out.family("jobd_worker_pool_jobs_total", "counter", "Jobs run by in-process workers, by outcome.")
        for pool in jobs.pools {
            let labels = [("pool", pool.spec.name), ("handler", pool.spec.handler.name)]
            let s = pool.stats
            for (outcome, count) in [("completed", s.completed), ("failed", s.failed), ("timed_out", s.timedOut), ("canceled", s.canceled)] {
                out.sample("jobd_worker_pool_jobs_total", labels + [("outcome", outcome)], count)
            }
        }
    }

    private func appendServerMetrics(_ out: inout PrometheusText) {
        let single: [(String, String, String, Double)] = [
            ("jobd_up", "gauge", "1 while serving (0 while loading the log).", loading ? 0 : 1),
            ("jobd_uptime_seconds", "gauge", "Seconds since the server started.", Double(uptimeSeconds)),
            ("jobd_connected_clients", "gauge", "RESP client connections.", Double(clientCount)),
            ("jobd_blocked_clients", "gauge", "Clients waiting in a blocking command.", Double(blocking.blockedClientCount)),
            ("jobd_http_connections", "gauge", "Connections to the HTTP port.", Double(http.connections.count)),
            ("jobd_memory_used_bytes", "gauge", "Memory allocated by jobd.", Double(ProcessMemory.allocatedBytes())),
            ("jobd_memory_max_bytes", "gauge", "The maxmemory limit (0: none).", Double(config.maxMemory)),
            ("jobd_commands_processed_total", "counter", "Commands executed.", Double(stats.commandsProcessed)),
            ("jobd_connections_received_total", "counter", "Connections accepted on the RESP ports.", Double(stats.connectionsReceived)),
            ("jobd_rejected_connections_total", "counter", "Connections refused (maxclients, protected mode).", Double(stats.rejectedConnections)),
            ("jobd_http_requests_total", "counter", "HTTP requests answered.", Double(http.requests)),
            ("jobd_aof_enabled", "gauge", "1 when the append-only log is on.", aof == nil ? 0 : 1),
            ("jobd_aof_size_bytes", "gauge", "Size of the append-only log.", Double(aof?.currentSize ?? 0)),
            ("jobd_aof_fsync_lag_seconds", "gauge", "How long the fsync in progress has run (0: none).", Double(fsyncLagMillis) / 1000),
            ("jobd_aof_last_write_ok", "gauge", "0 while writes to the log fail.", aof?.isFailing == true ? 0 : 1),
        ]
        for (name, type, help, value) in single {
            out.family(name, type, help)
            out.sample(name, [], value)
        }
        out.family("jobd_keys", "gauge", "Keys per database.")
        for db in keyspace.databases where db.count > 0 { out.sample("jobd_keys", [("db", String(db.index))], db.count) }
    }
}

/// Builds exposition text: families, samples, label escaping, histograms.
struct PrometheusText {
    private(set) var text = ""

    mutating func family(_ name: String, _ type: String, _ help: String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    mutating func sample(_ name: String, _ labels: [(String, String)], _ value: Int) {
        text += "\(name)\(Self.labelText(labels)) \(value)\n"
    }

    mutating func sample(_ name: String, _ labels: [(String, String)], _ value: Double) {
        let shown = value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        text += "\(name)\(Self.labelText(labels)) \(shown)\n"
    }

    mutating func histogram(_ name: String, _ labels: [(String, String)], _ histogram: LatencyHistogram) {
        let cumulative = histogram.cumulativeCounts
        for (i, bound) in LatencyHistogram.upperBoundsSeconds.enumerated() {
            sample(name + "_bucket", labels + [("le", String(bound))], cumulative[i])
        }
        sample(name + "_bucket", labels + [("le", "+Inf")], histogram.total)
        sample(name + "_sum", labels, Double(histogram.sumNanos) / 1e9)
        sample(name + "_count", labels, histogram.total)
    }

    /// `{a="x",b="y"}`, with backslash, quote and newline escaped as the format requires.
    static func labelText(_ labels: [(String, String)]) -> String {
        guard !labels.isEmpty else { return "" }
        let parts = labels.map { name, value in
            var escaped = ""
            for character in value {
                switch character {
                case "\\": escaped += "\\\\"
                case "\"": escaped += "\\\""
                case "\n": escaped += "\\n"
                default: escaped.append(character)
                }
            }
            return "\(name)=\"\(escaped)\""
        }
        return "{" + parts.joined(separator: ",") + "}"
    }
}
