import JobdPersistence
import JobdStore
import JobdSystem

/// The text of INFO, section by section, with the fields Redis clients and
/// tools read (redis-cli --stat reads keys, used_memory, connected_clients,
/// blocked_clients, total_commands_processed, total_connections_received).
enum ServerInfo {
    /// The Redis version jobd answers as: its semantics are Redis 7.0's.
    static let redisVersion = "7.0.0"
    static let jobdVersion = "0.1.0"

    static let defaultSections = ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "keyspace", "jobs"]
    static let allSections = defaultSections + ["commandstats"]

    /// INFO [section ...]: "default", "all", "everything" or section names.
    static func text(_ server: Server, sections requested: [String]) -> String {
        var names: [String] = []
        if requested.isEmpty {
            names = defaultSections
        } else {
            for name in requested.map({ $0.lowercased() }) {
                switch name {
                case "default": names += defaultSections
                case "all", "everything": names += allSections
                default: names.append(name)
                }
            }
        }
        var seen = Set<String>()
        var parts: [String] = []
        for name in names where seen.insert(name).inserted {
            if let body = section(name, server) { parts.append(body) }
        }
        return parts.joined(separator: "\r\n")
    }

    private static func section(_ name: String, _ server: Server) -> String? {
        let fields: [(String, String)]
        switch name {
        case "server": fields = serverFields(server)
        case "clients": fields = clientFields(server)
        case "memory": fields = memoryFields(server)
        case "persistence": fields = persistenceFields(server)
        case "stats": fields = statsFields(server)
        case "replication": fields = [("role", "master"), ("connected_slaves", "0"), ("master_failover_state", "no-failover"),
                                      ("master_replid", server.runID), ("master_replid2", String(repeating: "0", count: 40)),
                                      ("master_repl_offset", "0"), ("second_repl_offset", "-1"),
                                      ("repl_backlog_active", "0"), ("repl_backlog_size", "0"),
                                      ("repl_backlog_first_byte_offset", "0"), ("repl_backlog_histlen", "0")]
        case "cpu":
            let (user, system) = Clock.processCPUSeconds()
            fields = [("used_cpu_sys", format(system)), ("used_cpu_user", format(user)),
                      ("used_cpu_sys_children", "0.000000"), ("used_cpu_user_children", "0.000000"),
                      ("used_cpu_sys_main_thread", format(system)), ("used_cpu_user_main_thread", format(user))]
        case "commandstats": fields = server.commandStatsFields()
        case "jobs": fields = server.jobsInfoFields()
        case "keyspace":
            fields = server.keyspace.databases.filter { $0.count > 0 }.map { db in
                ("db\(db.index)", "keys=\(db.count),expires=\(db.expiringCount),avg_ttl=0,queues=\(server.queueNames(db).count)")
            }
        default: return nil
        }
        let title = "# " + name.prefix(1).uppercased() + name.dropFirst()
        return ([title] + fields.map { "\($0.0):\($0.1)" }).joined(separator: "\r\n") + "\r\n"
    }

    private static func serverFields(_ server: Server) -> [(String, String)] {
        let uptime = server.uptimeSeconds
        var name = utsname()
        uname(&name)
        let os = [name.sysname, name.release, name.machine].map { field in
            withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }.joined(separator: " ")
        return [
            ("redis_version", redisVersion), ("redis_git_sha1", "00000000"), ("redis_git_dirty", "0"),
            ("redis_build_id", "0"), ("redis_mode", "standalone"), ("jobd_version", jobdVersion),
            ("os", os), ("arch_bits", "64"), ("monotonic_clock", "POSIX clock_gettime"),
            ("multiplexing_api", "epoll"), ("process_id", String(getpid())), ("process_supervised", "no"),
            ("run_id", server.runID),
            ("tcp_port", String(server.config.port)),
            ("server_time_usec", String(Clock.wallMicros())),
            ("uptime_in_seconds", String(uptime)), ("uptime_in_days", String(uptime / 86400)),
            ("hz", String(server.config.hz)), ("configured_hz", String(server.config.hz)),
            ("lru_clock", String(server.keyspace.accessClock / 10)),
            ("executable", CommandLine.arguments.first ?? "jobd"), ("config_file", server.configFile),
        ]
    }

    private static func clientFields(_ server: Server) -> [(String, String)] {
        [
            ("connected_clients", String(server.clientCount)), ("cluster_connections", "0"),
            ("maxclients", String(server.config.maxClients)),
            ("client_recent_max_input_buffer", "0"), ("client_recent_max_output_buffer", "0"),
            ("blocked_clients", String(server.blocking.blockedClientCount)), ("tracking_clients", "0"),
            ("clients_in_timeout_table", String(server.timeouts.count)),
        ]
    }

    private static func memoryFields(_ server: Server) -> [(String, String)] {
        let used = ProcessMemory.allocatedBytes()
        let rss = ProcessMemory.residentBytes()
        server.peakMemory = max(server.peakMemory, used)
        return [
            ("used_memory", String(used)), ("used_memory_human", human(used)),
            ("used_memory_rss", String(rss)), ("used_memory_rss_human", human(rss)),
            ("used_memory_peak", String(server.peakMemory)), ("used_memory_peak_human", human(server.peakMemory)),
            ("used_memory_jobs", String(server.memoryHeldByQueues())),
        ] + server.maxMemoryInfoFields() + [
            ("mem_fragmentation_ratio", used > 0 ? String(format2(Double(rss) / Double(used))) : "0"),
            ("mem_allocator", "libc"),
        ]
    }

    private static func persistenceFields(_ server: Server) -> [(String, String)] {
        var fields: [(String, String)] = [
            ("loading", server.loading ? "1" : "0"), ("async_loading", "0"), ("rdb_changes_since_last_save", "0"),
            ("rdb_bgsave_in_progress", "0"), ("rdb_last_save_time", String(server.startedAtMillis / 1000)),
            ("rdb_last_bgsave_status", "ok"), ("aof_enabled", server.aof == nil ? "0" : "1"),
        ]
        fields += server.loadingInfoFields()
        fields += server.rewriteInfoFields()
        guard let aof = server.aof else {
            return fields + [("aof_last_write_status", "ok"), ("bgsave_in_progress", "0")]
        }
        let state = aof.state
        let written = state.writtenBytes.load(ordering: .relaxed)
        let durable = state.durableBytes.load(ordering: .relaxed)
        let fsyncStarted = state.fsyncStartedMillis.load(ordering: .relaxed)
        let lag = fsyncStarted == 0 ? 0 : max(0, Clock.monotonicNanos() / 1_000_000 - fsyncStarted)
        fields += [
            ("aof_last_write_status", aof.isFailing ? "err" : "ok"),
            ("aof_last_fsync_status", state.lastFsyncErrno.load(ordering: .relaxed) == 0 ? "ok" : "err"),
            ("aof_current_size", String(aof.currentSize)), ("aof_base_size", String(aof.baseSize)),
            ("aof_pending_rewrite", "0"), ("aof_buffer_length", String(aof.batch.payloadSize)),
            ("aof_pending_bio_fsync", written > durable ? "1" : "0"),
            ("aof_delayed_fsync", String(server.delayedFsyncs)),
            ("aof_wait_buffer_bytes", String(server.heldReplyBytes)),
            ("aof_wait_buffer_pauses", String(server.stats.logBackpressurePauses)),
            ("aof_fsync_policy", aof.policy.rawValue),
            ("aof_written_offset", String(written)), ("aof_durable_offset", String(durable)),
            ("aof_pending_bytes", String(written - durable)), ("aof_fsync_lag_ms", String(lag)),
            ("aof_fsyncs", String(state.fsyncCount.load(ordering: .relaxed))),
            ("aof_slowest_fsync_us", String(state.slowestFsyncMicros.load(ordering: .relaxed))),
            ("aof_files", String(aof.manifest.entries.count)),
            ("bgsave_in_progress", "0"),
        ]
        return fields
    }

    private static func statsFields(_ server: Server) -> [(String, String)] {
        let s = server.stats
        return [
            ("total_connections_received", String(s.connectionsReceived)),
            ("total_commands_processed", String(s.commandsProcessed)),
            ("instantaneous_ops_per_sec", String(s.instantaneousOpsPerSecond)),
            ("total_net_input_bytes", String(s.netInputBytes)), ("total_net_output_bytes", String(s.netOutputBytes)),
            ("rejected_connections", String(s.rejectedConnections)),
            ("expired_keys", String(server.keyspace.expiredKeys)), ("evicted_keys", String(s.evictedKeys)),
            ("rejected_enqueues_oom", String(s.rejectedEnqueuesOOM)),
            ("keyspace_hits", String(s.keyspaceHits)), ("keyspace_misses", String(s.keyspaceMisses)),
            ("pubsub_channels", String(server.pubsub.channels.count)),
            ("pubsub_patterns", String(server.pubsub.patterns.count)),
            ("total_error_replies", String(s.totalErrorReplies)),
            ("client_query_buffer_limit_disconnections", String(s.queryBufferLimitDisconnections)),
            ("client_output_buffer_limit_disconnections", String(s.outputBufferLimitDisconnections)),
            ("total_protocol_errors", String(s.protocolErrors)),
            ("acl_access_denied_auth", String(s.authFailures)),
        ]
    }

    static func human(_ bytes: Int) -> String {
        let units: [(Double, String)] = [(1_099_511_627_776, "T"), (1_073_741_824, "G"), (1_048_576, "M"), (1024, "K")]
        for (size, suffix) in units where Double(bytes) >= size {
            return format2(Double(bytes) / size) + suffix
        }
        return "\(bytes)B"
    }

    static func format2(_ value: Double) -> String {
        let scaled = (value * 100).rounded()
        let whole = Int(scaled) / 100
        let fraction = Int(scaled) % 100
        return "\(whole).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    static func format(_ seconds: Double) -> String {
        let micros = Int((seconds * 1e6).rounded())
        let fraction = String(micros % 1_000_000)
        return "\(micros / 1_000_000)." + String(repeating: "0", count: 6 - fraction.count) + fraction
    }
}

import Glibc
