import JobdRESP
import JobdStore
import JobdSystem

/// INFO, CONFIG, DBSIZE, FLUSHDB, FLUSHALL, TIME, SHUTDOWN, DEBUG, LASTSAVE, SWAPDB.
enum ServerCommands {
    static func info(_ call: Call) {
        let sections = (1..<call.count).map { call.args.string($0) }
        call.reply.verbatim(ServerInfo.text(call.server, sections: sections))
    }

    static func dbsize(_ call: Call) { call.reply.integer(call.db.count) }

    /// FLUSHDB / FLUSHALL [ASYNC|SYNC]
    static func flush(_ call: Call) {
        if call.count > 2 { return call.syntaxError() }
        if call.count == 2 && !call.args.matches(1, "ASYNC") && !call.args.matches(1, "SYNC") { return call.syntaxError() }
        let server = call.server
        let emptied = call.spec.name == "flushall" ? server.keyspace.databases : [call.db]
        if !server.watchers.isEmpty { emptied.forEach { server.touchWatchedKeys(in: $0) } }
        emptied.forEach { $0.removeAll() }
        server.jobs.removeAll(database: call.spec.name == "flushall" ? nil : call.client.databaseIndex)
        call.logAsIs()
        // Queue settings made at run time (QUEUE.CONFIG) are data and go; the
        // config file's `queue` lines are configuration and hold again at once.
        if !server.loading { server.applyQueueSettings() }
        call.reply.ok()
    }

    static func time(_ call: Call) {
        let micros = Clock.wallMicros()
        call.reply.arrayHeader(2)
        call.reply.bulk(String(micros / 1_000_000))
        call.reply.bulk(String(micros % 1_000_000))
    }

    static func lastsave(_ call: Call) { call.reply.integer(call.server.startedAtMillis / 1000) }

    /// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]
    static func shutdown(_ call: Call) {
        var abort = false
        for i in 1..<max(1, call.count) {
            if call.args.matches(i, "ABORT") { abort = true }
            else if !(call.args.matches(i, "NOSAVE") || call.args.matches(i, "SAVE") || call.args.matches(i, "NOW")
                      || call.args.matches(i, "FORCE")) {
                return call.syntaxError()
            }
        }
        if abort {
            return call.reply.error("ERR No shutdown in progress.")
        }
        Log.warning("User requested shutdown...")
        // Like Redis, no reply: the connection closes when the server exits.
        call.server.requestShutdown()
    }

    static func swapdb(_ call: Call) {
        let count = Int64(call.server.keyspace.databases.count)
        guard let a = call.integer(1, in: Int64(Int32.min)...Int64(Int32.max), orReply: "ERR invalid first DB index"),
              let b = call.integer(2, in: Int64(Int32.min)...Int64(Int32.max), orReply: "ERR invalid second DB index") else { return }
        guard a >= 0, a < count, b >= 0, b < count else { return call.reply.error("ERR DB index is out of range") }
        if a != b {
            let first = call.server.keyspace[Int(a)], second = call.server.keyspace[Int(b)]
            call.server.touchWatchedKeys(in: first, orIn: second)
            call.server.touchWatchedKeys(in: second, orIn: first)
            call.server.keyspace[Int(a)].swapContents(with: call.server.keyspace[Int(b)])
            call.server.jobs.swapDatabases(Int(a), Int(b))
            call.server.databasesSwapped(Int(a), Int(b))
            call.logAsIs()
        }
        call.reply.ok()
    }

    // MARK: DEBUG

    static func debugSleep(_ call: Call) {
        guard let seconds = Numbers.parseDouble(call.args[2]), seconds >= 0, seconds < 1e9 else {
            return call.reply.error(Errors.notFloat)
        }
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 { request = remaining }
        call.reply.ok()
    }

    /// DEBUG AOF-FSYNC-DELAY <ms>: every log fsync first waits this long, like a busy disk (tests).
    static func debugFsyncDelay(_ call: Call) {
        guard let aof = call.server.aof else { return call.reply.error("ERR Append only file is disabled (appendonly no)") }
        guard let millis = call.integer(2, in: 0...600_000, orReply: "ERR value is out of range") else { return }
        aof.state.debugFsyncDelayMillis.store(millis, ordering: .relaxed)
        call.reply.ok()
    }

    static func debugHelp(_ call: Call) {
        HelpText.reply(call, command: "DEBUG", lines: [
            "SLEEP <seconds>", "    Stop the server for <seconds>. Decimals allowed.",
            "AOF-FSYNC-DELAY <milliseconds>", "    Make every fsync of the append-only log wait this long first (simulates a busy disk).",
        ])
    }

    // MARK: CONFIG

    static func configGet(_ call: Call) {
        var matched: [(String, String)] = []
        var seen = Set<String>()
        for i in 2..<call.count {
            let pattern = call.args.lowercased(i)
            for directive in ConfigDirectives.all where Glob.matches(pattern, directive.name) {
                if seen.insert(directive.name).inserted { matched.append((directive.name, directive.get(call.server.config))) }
            }
        }
        call.reply.mapHeader(matched.count)
        for (name, value) in matched {
            call.reply.bulk(name)
            call.reply.bulk(value)
        }
    }

    static func configSet(_ call: Call) {
        guard call.count % 2 == 0 else { return call.syntaxError() }
        var changes: [(ConfigDirective, String)] = []
        for i in stride(from: 2, to: call.count, by: 2) {
            let name = call.args.string(i)
            guard let directive = ConfigDirectives.find(name) else {
                return call.reply.error("ERR Unknown option or number of arguments for CONFIG SET - '\(name)'")
            }
            guard directive.mutable else {
                return call.reply.error("ERR CONFIG SET failed (possibly related to argument '\(name)') - can't set immutable config")
            }
            if changes.contains(where: { $0.0.name == directive.name }) {
                return call.reply.error("ERR CONFIG SET failed (possibly related to argument '\(name)') - duplicate parameter")
            }
            changes.append((directive, call.args.string(i + 1)))
        }
        // All or nothing: apply to a copy first, then to the live config.
        let trial = call.server.config.copy()
        for (directive, value) in changes {
            do {
                try directive.set(trial, [value])
            } catch {
                return call.reply.error("ERR CONFIG SET failed (possibly related to argument '\(directive.name)') - \(error)")
            }
        }
        for (directive, value) in changes { try? directive.set(call.server.config, [value]) }
        call.server.configChanged()
        call.reply.ok()
    }

    static func configResetStat(_ call: Call) {
        call.server.stats = Stats()
        call.server.stats.lastSampleTime = call.now
        call.server.keyspace.expiredKeys = 0
        call.reply.ok()
    }

    static func configRewrite(_ call: Call) {
        guard !call.server.configFile.isEmpty else {
            return call.reply.error("ERR The server is running without a config file")
        }
        do {
            try ConfigRewriter.rewrite(path: call.server.configFile, config: call.server.config)
            call.reply.ok()
        } catch {
            call.reply.error("ERR Rewriting config file: \(error)")
        }
    }

    static func configHelp(_ call: Call) {
        HelpText.reply(call, command: "CONFIG", lines: [
            "GET <pattern>", "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>", "    Set the configuration <directive> to <value>.",
            "RESETSTAT", "    Reset statistics reported by the INFO command.",
            "REWRITE", "    Rewrite the configuration file.",
        ])
    }
}

import Glibc
