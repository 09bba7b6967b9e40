import JobdRESP
import JobdStore
import JobdSystem

/// Per-command counters for INFO commandstats.
struct CommandStats {
    var calls = 0
    var ticks: UInt64 = 0
    var failedCalls = 0
    var rejectedCalls = 0
}

/// One SLOWLOG entry, as Redis records it.
struct SlowLogEntry {
    let id: Int
    let unixSeconds: Int64
    let micros: Int64
    let arguments: [[UInt8]]
    let peer: String
    let name: String
}

/// SLOWLOG, MONITOR and INFO commandstats. Commands are timed with a tick
/// counter (two TSC reads, no syscall), so timing every command is cheap.
extension Server {
    /// Called after each command ran, with the ticks it took.
    @inline(__always)
    func recordCommand(_ spec: CommandSpec, _ args: Arguments, _ client: Client, ticks: UInt64, failed: Bool) {
        spec.stats.calls &+= 1
        spec.stats.ticks &+= ticks
        if failed { spec.stats.failedCalls &+= 1 }
        if ticks >= slowLogThresholdTicks { recordSlow(args, client, ticks: ticks) }
        if !monitors.isEmpty && !spec.flags.contains(.admin) { feedMonitors(args, client) }
    }

    private func recordSlow(_ args: Arguments, _ client: Client, ticks: UInt64) {
        guard config.slowlogLogSlowerThan >= 0, config.slowlogMaxLen > 0 else { return }
        // At most 32 arguments of at most 128 bytes each, as Redis keeps them.
        var kept: [[UInt8]] = []
        for i in 0..<min(args.count, 32) {
            if i == 31 && args.count > 32 {
                kept.append(Array("... (\(args.count - 31) more arguments)".utf8))
                break
            }
            let argument = args[i]
            if argument.count > 128 {
                kept.append(Array(argument.prefix(128)) + Array("... (\(argument.count - 128) more bytes)".utf8))
            } else {
                kept.append(Array(argument))
            }
        }
        slowLog.insert(SlowLogEntry(id: nextSlowLogID, unixSeconds: keyspace.now / 1000,
                                    micros: Int64(Double(ticks) / Clock.ticksPerMicrosecond), arguments: kept,
                                    peer: client.peer.text, name: client.name), at: 0)
        nextSlowLogID += 1
        if slowLog.count > config.slowlogMaxLen { slowLog.removeLast(slowLog.count - config.slowlogMaxLen) }
    }

    /// The threshold in ticks (Int64.max when the slow log is off).
    static func slowLogTicks(_ config: ServerConfig) -> UInt64 {
        guard config.slowlogLogSlowerThan >= 0, config.slowlogMaxLen > 0 else { return UInt64.max }
        return UInt64(Double(config.slowlogLogSlowerThan) * Clock.ticksPerMicrosecond)
    }

    /// `+1700000000.123456 [0 127.0.0.1:5000] "SET" "k" "v"` to every MONITOR client.
    private func feedMonitors(_ args: Arguments, _ client: Client) {
        let micros = Clock.wallMicros()
        var line = "\(micros / 1_000_000).\(String(micros % 1_000_000).leftPadded(to: 6)) [\(client.databaseIndex) \(client.peer.text)]"
        for i in 0..<args.count { line += " " + Server.quoted(args[i]) }
        for monitor in monitors where monitor !== client && !monitor.closeNow {
            writer(for: monitor).simpleString(line)
            checkOutputLimits(monitor)
        }
    }

    /// An argument as Redis' sdscatrepr shows it: quoted, with escapes.
    static func quoted(_ bytes: UnsafeRawBufferPointer) -> String {
        var text = "\""
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\\"): text += "\\\\"
            case UInt8(ascii: "\""): text += "\\\""
            case 10: text += "\\n"
            case 13: text += "\\r"
            case 9: text += "\\t"
            case 7: text += "\\a"
            case 8: text += "\\b"
            case 32...126: text.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16)
                text += "\\x" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return text + "\""
    }

    func commandStatsFields() -> [(String, String)] {
        var fields: [(String, String)] = []
        func add(_ spec: CommandSpec) {
            let s = spec.stats
            guard s.calls > 0 || s.rejectedCalls > 0 || s.failedCalls > 0 else { return }
            let usec = Int64(Double(s.ticks) / Clock.ticksPerMicrosecond)
            let perCall = s.calls > 0 ? Double(usec) / Double(s.calls) : 0
            fields.append(("cmdstat_\(spec.fullName)",
                           "calls=\(s.calls),usec=\(usec),usec_per_call=\(String(format: perCall)),rejected_calls=\(s.rejectedCalls),failed_calls=\(s.failedCalls)"))
        }
        for spec in commands.commands.sorted(by: { $0.name < $1.name }) {
            add(spec)
            spec.subcommands.forEach(add)
        }
        return fields
    }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

/// SLOWLOG and MONITOR.
enum MonitoringCommands {
    static func monitor(_ call: Call) {
        let client = call.client
        if !call.server.monitors.contains(where: { $0 === client }) { call.server.monitors.append(client) }
        call.reply.ok()
    }

    /// SLOWLOG GET [count]: newest first; count -1 means all.
    static func slowlogGet(_ call: Call) {
        var count = 10
        if call.count > 3 { return call.subcommandSyntaxError() }
        if call.count == 3 {
            guard let n = call.integer(2, in: -1...Int64.max, orReply: "ERR count should be greater than or equal to -1") else { return }
            count = n == -1 ? Int.max : Int(n)
        }
        let entries = call.server.slowLog.prefix(count)
        call.reply.arrayHeader(entries.count)
        for entry in entries {
            call.reply.arrayHeader(6)
            call.reply.integer(entry.id)
            call.reply.integer(entry.unixSeconds)
            call.reply.integer(entry.micros)
            call.reply.arrayHeader(entry.arguments.count)
            for argument in entry.arguments { call.reply.bulk(argument) }
            call.reply.bulk(entry.peer)
            call.reply.bulk(entry.name)
        }
    }

    static func slowlogLen(_ call: Call) { call.reply.integer(call.server.slowLog.count) }

    static func slowlogReset(_ call: Call) {
        call.server.slowLog.removeAll()
        call.reply.ok()
    }

    static func slowlogHelp(_ call: Call) {
        HelpText.reply(call, command: "SLOWLOG", lines: [
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN", "    Return the length of the slowlog.",
            "RESET", "    Reset the slowlog.",
        ])
    }
}
