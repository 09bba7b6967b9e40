import JobdPersistence
import JobdQueue
import JobdSystem

/// One configuration directive: its name, default, documentation, whether
/// CONFIG SET may change it, and how to read and write it.
struct ConfigDirective: Sendable {
    let name: String
    let summary: String
    let mutable: Bool
    /// Takes exactly one argument (CONFIG SET passes the value as one string).
    let get: @Sendable (ServerConfig) -> String
    let set: @Sendable (ServerConfig, [String]) throws(ConfigError) -> Void
    /// May appear on several lines, each adding one item (`worker`, `queue`); CONFIG
    /// REWRITE leaves such lines as they are.
    var repeatable = false
}

/// The directive table: the single list of what can be configured.
enum ConfigDirectives {
    static let all: [ConfigDirective] = [
        ConfigDirective(
            name: "bind", summary: "Addresses to listen on (IPv4 and IPv6); '*' means all IPv4.",
            mutable: false, get: { $0.bind.joined(separator: " ") },
            set: { config, args throws(ConfigError) in config.bind = try addresses(args) }),
        integer("port", "TCP port; 0 disables TCP.", mutable: false, 0...65535, \.port),
        integer("http-port", "HTTP port for /metrics, the JSON API and the dashboard; 0 disables HTTP.",
                mutable: false, 0...65535, \.httpPort),
        ConfigDirective(
            name: "http-bind", summary: "Addresses the HTTP port listens on.",
            mutable: false, get: { $0.httpBind.joined(separator: " ") },
            set: { config, args throws(ConfigError) in config.httpBind = try addresses(args) }),
        ConfigDirective(
            name: "unixsocket", summary: "Path of a unix socket to listen on too; empty disables it.",
            mutable: false, get: { $0.unixSocket }, set: { config, args throws(ConfigError) in
                config.unixSocket = try single(args)
            }),
        ConfigDirective(
            name: "unixsocketperm", summary: "Permissions of the unix socket, in octal.",
            mutable: false, get: { String($0.unixSocketPerm, radix: 8) },
            set: { config, args throws(ConfigError) in
                guard let value = Int(try single(args), radix: 8), value >= 0, value <= 0o777 else {
                    throw .message("argument couldn't be parsed as an octal number")
                }
                config.unixSocketPerm = value
            }),
        integer("tcp-backlog", "listen(2) backlog.", mutable: false, 0...65535, \.tcpBacklog),
        integer("tcp-keepalive", "TCP keepalive interval in seconds; 0 disables.", mutable: true, 0...Int(Int32.max), \.tcpKeepalive),
        integer("timeout", "Close a client after this many idle seconds; 0 never.", mutable: true, 0...Int(Int32.max), \.timeout),
        boolean("protected-mode", "Without a password, refuse clients that are not on loopback.", \.protectedMode),
        ConfigDirective(
            name: "requirepass", summary: "Password clients must send with AUTH; empty means none.",
            mutable: true, get: { $0.requirePass }, set: { config, args throws(ConfigError) in
                config.requirePass = try single(args)
            }),
        memory("aof-wait-buffer-limit", "Replies held for the log (appendfsync always, a stalled disk) past this many bytes pause reading from clients; 0: no limit.",
               0...Int.max, \.aofWaitBufferLimit),
        memory("maxmemory", "Memory limit (bytes, or 100mb, 2gb); 0: none. Past it, keys are evicted by maxmemory-policy.",
               0...Int.max, \.maxMemory),
        ConfigDirective(
            name: "maxmemory-policy", summary: "What may be evicted at maxmemory; lists (queues) never are.",
            mutable: true, get: { $0.maxMemoryPolicy.rawValue },
            set: { config, args throws(ConfigError) in
                guard let policy = EvictionPolicy(rawValue: try single(args).lowercased()) else {
                    throw .message("argument(s) must be one of the following: "
                                   + EvictionPolicy.allCases.map(\.rawValue).joined(separator: ", "))
                }
                config.maxMemoryPolicy = policy
            }),
        integer("maxmemory-samples", "Keys sampled per eviction (more: closer to true LRU/LFU, slower).",
                mutable: true, 1...64, \.maxMemorySamples),
        integer("lfu-log-factor", "How slowly LFU counters grow with accesses.", mutable: true, 0...Int(Int32.max), \.lfuLogFactor),
        integer("lfu-decay-time", "Minutes of disuse that take one off an LFU counter; 0: never.",
                mutable: true, 0...Int(Int32.max), \.lfuDecayTime),
        integer("slowlog-log-slower-than", "SLOWLOG keeps commands slower than this (microseconds); negative disables it.",
                mutable: true, Int(Int32.min)...Int(Int32.max), \.slowlogLogSlowerThan),
        integer("slowlog-max-len", "How many SLOWLOG entries are kept.", mutable: true, 0...Int(Int32.max), \.slowlogMaxLen),
        milliseconds("lease-timeout", "Lease length (ms) of a job taken without LEASE or TIMEOUT.", 1...(Int64.max / 4), \.leaseTimeout),
        milliseconds("result-ttl", "How long (ms) results and finished jobs are kept without RESULTTTL.", 0...(Int64.max / 4), \.resultTTL),
        milliseconds("priority-aging", "A waiting job counts one level more urgent per this many ms (0: off).", 0...(Int64.max / 4), \.priorityAging),
        lines("worker", "<queue>[,<queue>...] <handler> [args...] [concurrency N] [timeout ms] [retries n]: a pool of in-process workers (one line each).",
              \.workers, words: \.configWords) { words throws(ConfigError) in
            do throws(WorkerPoolSpec.ParseError) { return try WorkerPoolSpec.parse(words) } catch { throw .message(error.message) }
        },
        lines("queue", "<name> [priority p] [rate n/s|n/m|n/h|0] [concurrency n] [paused yes|no]: settings of a queue of database 0, applied after the log is loaded (one line each).",
              \.queues, words: \.configWords) { words throws(ConfigError) in
            do throws(QueueSpec.ParseError) { return try QueueSpec.parse(words) } catch { throw .message(error.message) }
        },
        ConfigDirective(
            name: "cron",
            summary: "<name> \"<spec>\" <queue> <payload> [JOB.ADD options]: a periodic job, as CRON.ADD (one line each).",
            mutable: false,
            get: { $0.cronEntries.map { $0.map(ConfigLoader.quote).joined(separator: " ") }.joined(separator: "; ") },
            set: { config, args throws(ConfigError) in
                let words = args.count == 1 ? (ConfigLoader.splitArguments(args[0]) ?? []) : args
                guard words.count >= 4 else { throw .message("wrong number of arguments: cron <name> \"<spec>\" <queue> <payload> [options]") }
                do throws(CronSpecError) { _ = try CronSchedule(parsing: words[1]) } catch {
                    throw .message("invalid cron spec '\(words[1])': \(error.message)")
                }
                do throws(JobError) {
                    _ = try JobRequestParser.parse(queue: Array(words[2].utf8), payload: Array(words[3].utf8),
                                                   words: words.dropFirst(4).map { Array($0.utf8) }[...],
                                                   now: 0, allowID: false, allowSchedule: false)
                } catch {
                    throw .message(error.text.hasPrefix("ERR ") ? String(error.text.dropFirst(4)) : error.text)
                }
                config.cronEntries.removeAll { $0[0] == words[0] }
                config.cronEntries.append(words)
            }, repeatable: true),
        ConfigDirective(
            name: "rename-command",
            summary: "<command> <new-name>: clients must call the command by its new name; \"\" disables it (one line each).",
            mutable: false,
            get: { $0.renamedCommands.map { "\($0.original) \(ConfigLoader.quote($0.newName))" }.joined(separator: "; ") },
            set: { config, args throws(ConfigError) in
                let words = args.count == 1 ? (ConfigLoader.splitArguments(args[0]) ?? []) : args
                guard words.count == 2 else { throw .message("wrong number of arguments") }
                let known = Set(CommandRegistry.all.map { $0.name })
                guard known.contains(words[0].lowercased()) else { throw .message("no such command '\(words[0])'") }
                guard !known.contains(words[1].lowercased()) else {
                    throw .message("'\(words[1])' is already the name of a command")
                }
                guard !words[1].contains(where: { $0 == " " || $0 == "\t" }), words[1].utf8.count <= 64 else {
                    throw .message("bad new name '\(words[1])'")
                }
                config.renamedCommands.removeAll { $0.original.lowercased() == words[0].lowercased() }
                config.renamedCommands.append((words[0].lowercased(), words[1]))
            }, repeatable: true),
        milliseconds("shutdown-timeout", "On SIGTERM, how long (ms) running in-process jobs may take to finish.",
                     0...(Int64.max / 4), \.shutdownTimeout),
        integer("maxclients", "Most clients connected at once.", mutable: true, 1...1_000_000, \.maxClients),
        integer("databases", "Number of databases (SELECT 0..n-1).", mutable: false, 1...1_000_000, \.databases),
        ConfigDirective(
            name: "dir", summary: "Working directory for data files; created if missing.",
            mutable: false, get: { $0.dir }, set: { config, args throws(ConfigError) in
                config.dir = try single(args)
            }),
        ConfigDirective(
            name: "pidfile", summary: "Write the process id to this file; empty means none.",
            mutable: false, get: { $0.pidFile }, set: { config, args throws(ConfigError) in
                config.pidFile = try single(args)
            }),
        ConfigDirective(
            name: "loglevel", summary: "debug, verbose, notice or warning.",
            mutable: true, get: { $0.logLevel.name }, set: { config, args throws(ConfigError) in
                let text = try single(args).lowercased()
                guard let level = LogLevel.allCases.first(where: { $0.name == text }) else {
                    throw .message("argument(s) must be one of the following: debug, verbose, notice, warning")
                }
                config.logLevel = level
            }),
        ConfigDirective(
            name: "logfile", summary: "Log to this file instead of stderr; empty means stderr.",
            mutable: false, get: { $0.logFile }, set: { config, args throws(ConfigError) in
                config.logFile = try single(args)
            }),
        integer("hz", "Background task frequency (expiry, timeouts) per second.", mutable: true, 1...500, \.hz),
        memory("proto-max-bulk-len", "Largest single argument a client may send.", 1024 * 1024...Int(Int32.max) * 4, \.protoMaxBulkLen),
        memory("client-query-buffer-limit", "Most unprocessed input held for one client.", 1024 * 1024...Int.max, \.clientQueryBufferLimit),
        ConfigDirective(
            name: "client-output-buffer-limit",
            summary: "<class> <hard> <soft> <soft-seconds>: close a client whose unsent replies pass hard, or stay above soft that long.",
            mutable: true,
            get: { config in
                ClientClass.allCases.map { cls in
                    let l = config.outputLimits[cls]!
                    return "\(cls.rawValue) \(l.hardBytes) \(l.softBytes) \(l.softSeconds)"
                }.joined(separator: " ")
            },
            set: { config, args throws(ConfigError) in
                let words = args.flatMap { $0.split(separator: " ").map(String.init) }
                guard !words.isEmpty, words.count % 4 == 0 else {
                    throw .message("Wrong number of arguments in buffer limit configuration.")
                }
                var limits = config.outputLimits
                for i in stride(from: 0, to: words.count, by: 4) {
                    let name = words[i].lowercased() == "slave" ? "replica" : words[i].lowercased()
                    guard let cls = ClientClass(rawValue: name) else {
                        throw .message("Invalid client class specified in buffer limit configuration.")
                    }
                    guard let hard = ConfigValues.memory(words[i + 1]), let soft = ConfigValues.memory(words[i + 2]),
                          let seconds = Int(words[i + 3]), seconds >= 0 else {
                        throw .message("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
                    }
                    limits[cls] = OutputBufferLimit(hardBytes: hard, softBytes: soft, softSeconds: seconds)
                }
                config.outputLimits = limits
            }),
        ConfigDirective(
            name: "save", summary: "RDB snapshots are not part of jobd; only the empty value is accepted.",
            mutable: true, get: { _ in "" }, set: { _, args throws(ConfigError) in
                guard args.allSatisfy(\.isEmpty) else {
                    throw .message("jobd does not write RDB snapshots; persistence is the append-only log")
                }
            }),
        ConfigDirective(
            name: "appendonly", summary: "Log every write to the append-only file and replay it at start.",
            mutable: false, get: { ConfigValues.formatYesNo($0.appendOnly) },
            set: { config, args throws(ConfigError) in config.appendOnly = try ConfigValues.yesNo(try single(args)) }),
        ConfigDirective(
            name: "appendfsync", summary: "always, everysec or no: when the log is flushed to disk.",
            mutable: true, get: { $0.appendFsync.rawValue },
            set: { config, args throws(ConfigError) in
                guard let policy = FsyncPolicy(rawValue: try single(args).lowercased()) else {
                    throw .message("argument(s) must be one of the following: always, everysec, no")
                }
                config.appendFsync = policy
            }),
        ConfigDirective(
            name: "appendfilename", summary: "Base name of the log files (inside appenddirname).",
            mutable: false, get: { $0.appendFilename }, set: { config, args throws(ConfigError) in
                let name = try single(args)
                guard !name.isEmpty else { throw .message("appendfilename can't be empty") }
                guard !name.contains("/") else { throw .message("appendfilename can't be a path, just a filename") }
                config.appendFilename = name
            }),
        ConfigDirective(
            name: "appenddirname", summary: "Directory (inside dir) that holds the log files and their manifest.",
            mutable: false, get: { $0.appendDirname }, set: { config, args throws(ConfigError) in
                let name = try single(args)
                guard !name.isEmpty else { throw .message("appenddirname can't be empty") }
                guard !name.contains("/") else { throw .message("appenddirname can't be a path, just a dirname") }
                config.appendDirname = name
            }),
        boolean("aof-load-truncated", "Start with a log whose last batch was cut short by a crash (the tail is dropped).",
                \.aofLoadTruncated),
        integer("auto-aof-rewrite-percentage", "Rewrite the log when it grew by this percentage since the last rewrite; 0 disables.",
                mutable: true, 0...Int(Int32.max), \.autoRewritePercentage),
        memory("auto-aof-rewrite-min-size", "Do not rewrite automatically below this size.", 0...Int.max, \.autoRewriteMinSize),
        integer("busy-reply-threshold", "Milliseconds a script may run before BUSY (accepted for compatibility).", mutable: true, 0...Int(Int32.max), \.busyReplyThresholdMillis),
    ]

    private static let byName: [String: ConfigDirective] = {
        var table: [String: ConfigDirective] = [:]
        for directive in all { table[directive.name] = directive }
        table["lua-time-limit"] = table["busy-reply-threshold"]
        return table
    }()

    static func find(_ name: String) -> ConfigDirective? { byName[name.lowercased()] }

    // MARK: Builders

    /// Addresses given as several arguments or one space-separated string.
    private static func addresses(_ args: [String]) throws(ConfigError) -> [String] {
        let addresses = args.flatMap { $0.split(separator: " ").map(String.init) }
        guard !addresses.isEmpty else { throw .message("wrong number of arguments") }
        return addresses
    }

    private static func single(_ args: [String]) throws(ConfigError) -> String {
        guard args.count == 1 else { throw .message("wrong number of arguments") }
        return args[0]
    }

    /// A runtime-settable duration in milliseconds.
    private static func milliseconds(_ name: String, _ summary: String, _ range: ClosedRange<Int64>,
                                     _ path: ReferenceWritableKeyPath<ServerConfig, Int64> & Sendable) -> ConfigDirective {
        ConfigDirective(name: name, summary: summary, mutable: true, get: { String($0[keyPath: path]) },
                        set: { config, args throws(ConfigError) in
                            config[keyPath: path] = Int64(try ConfigValues.integer(try single(args), in: Int(range.lowerBound)...Int(range.upperBound)))
                        })
    }

    /// A repeatable directive: each line adds the item `parse` makes of its words.
    private static func lines<Item>(_ name: String, _ summary: String, _ path: ReferenceWritableKeyPath<ServerConfig, [Item]> & Sendable,
                                    words: KeyPath<Item, [String]> & Sendable,
                                    parse: @escaping @Sendable ([String]) throws(ConfigError) -> Item) -> ConfigDirective {
        ConfigDirective(name: name, summary: summary, mutable: false,
                        get: { $0[keyPath: path].map { $0[keyPath: words].map(ConfigLoader.quote).joined(separator: " ") }.joined(separator: "; ") },
                        set: { config, args throws(ConfigError) in
                            // One argument: a whole line given as one flag or CONFIG value, with its own quoting.
                            let words = args.count == 1 ? (ConfigLoader.splitArguments(args[0]) ?? []) : args
                            config[keyPath: path].append(try parse(words))
                        }, repeatable: true)
    }

    private static func integer(_ name: String, _ summary: String, mutable: Bool, _ range: ClosedRange<Int>,
                                _ path: ReferenceWritableKeyPath<ServerConfig, Int> & Sendable) -> ConfigDirective {
        ConfigDirective(name: name, summary: summary, mutable: mutable, get: { String($0[keyPath: path]) },
                        set: { config, args throws(ConfigError) in
                            config[keyPath: path] = try ConfigValues.integer(try single(args), in: range)
                        })
    }

    private static func memory(_ name: String, _ summary: String, _ range: ClosedRange<Int>,
                               _ path: ReferenceWritableKeyPath<ServerConfig, Int> & Sendable) -> ConfigDirective {
        ConfigDirective(name: name, summary: summary, mutable: true, get: { String($0[keyPath: path]) },
                        set: { config, args throws(ConfigError) in
                            config[keyPath: path] = try ConfigValues.memoryValue(try single(args), in: range)
                        })
    }

    private static func boolean(_ name: String, _ summary: String,
                                _ path: ReferenceWritableKeyPath<ServerConfig, Bool> & Sendable) -> ConfigDirective {
        ConfigDirective(name: name, summary: summary, mutable: true, get: { ConfigValues.formatYesNo($0[keyPath: path]) },
                        set: { config, args throws(ConfigError) in
                            config[keyPath: path] = try ConfigValues.yesNo(try single(args))
                        })
    }
}
