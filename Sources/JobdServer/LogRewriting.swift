import JobdPersistence
import JobdRESP
import JobdStore
import JobdSystem

/// Running log rewrites: starting them (BGREWRITEAOF, or automatically
/// when the log has grown by auto-aof-rewrite-percentage), advancing them a
/// little every loop turn, and keeping the snapshot exact by preserving
/// keys just before anything changes them.
extension Server {
    /// Starts a rewrite; returns an error text when one cannot start.
    func startRewrite(reason: String) -> String? {
        guard let aof else { return "ERR Append only file is disabled (appendonly no)" }
        guard rewrite == nil else { return "ERR Background append only file rewriting already in progress" }
        do {
            rewrite = try LogRewriter(keyspace: keyspace, log: aof, prelude: jobs.snapshotRecords())
            rewriteStats.started += 1
            Log.notice("Background append only file rewriting started (\(reason))")
            return nil
        } catch {
            rewriteStats.lastStatusOK = false
            Log.warning("Can't start the append only file rewrite: \(error)")
            return "ERR Can't start the append only file rewrite: \(error)"
        }
    }

    /// A slice of the running rewrite, every loop turn.
    func advanceRewrite() {
        guard let rewrite else { return }
        rewrite.step(budgetNanos: 1_000_000)
        rewrite.poll()
        switch rewrite.phase {
        case .snapshotting, .flushing:
            return
        case .finished:
            let seconds = Double(Clock.monotonicNanos() - rewrite.startedAtNanos) / 1e9
            Log.notice("Background AOF rewrite finished successfully: \(rewrite.keysWritten) keys, \(rewrite.bytesWritten) bytes in \(String(format3: seconds)) seconds")
            rewriteStats.lastStatusOK = true
            rewriteStats.lastSeconds = Int(seconds.rounded())
        case let .failed(reason):
            Log.warning("Background AOF rewrite failed: \(reason); the log is still complete")
            rewriteStats.lastStatusOK = false
        }
        self.rewrite = nil
    }

    /// auto-aof-rewrite-percentage / auto-aof-rewrite-min-size, checked from cron.
    func considerAutomaticRewrite() {
        guard let aof, rewrite == nil, !loading, config.autoRewritePercentage > 0,
              aof.currentSize >= Int64(config.autoRewriteMinSize) else { return }
        let base = max(aof.baseSize, 1)
        let growth = (aof.currentSize - base) * 100 / base
        if growth >= Int64(config.autoRewritePercentage) {
            _ = startRewrite(reason: "the log grew by \(growth)% since the last rewrite")
        }
    }

    /// Before a write command runs: its keys as they were go into the snapshot first.
    func preserveForRewrite(_ rewrite: LogRewriter, _ spec: CommandSpec, _ args: Arguments, _ client: Client) {
        let db = keyspace[client.databaseIndex]
        if !spec.keys.hasKeys {
            // Commands that change whole databases: FLUSHDB (this one), FLUSHALL and SWAPDB (all).
            if spec.name == "flushdb" { rewrite.preserveAll(db) } else { keyspace.databases.forEach { rewrite.preserveAll($0) } }
            return
        }
        for index in spec.keys.indices(args) { rewrite.preserve(key: args[index], in: db) }
    }

    func rewriteInfoFields() -> [(String, String)] {
        var fields: [(String, String)] = [
            ("aof_rewrite_in_progress", rewrite == nil ? "0" : "1"),
            ("aof_rewrite_scheduled", "0"),
            ("aof_last_rewrite_time_sec", String(rewriteStats.lastSeconds)),
            ("aof_current_rewrite_time_sec",
             rewrite.map { String((Clock.monotonicNanos() - $0.startedAtNanos) / 1_000_000_000) } ?? "-1"),
            ("aof_last_bgrewrite_status", rewriteStats.lastStatusOK ? "ok" : "err"),
            ("aof_rewrites", String(rewriteStats.started)),
        ]
        if let rewrite { fields.append(("aof_rewrite_keys_written", String(rewrite.keysWritten))) }
        return fields
    }
}

/// Counters for INFO persistence.
struct RewriteStats {
    var started = 0
    var lastStatusOK = true
    var lastSeconds = -1
}

/// BGREWRITEAOF
enum PersistenceCommands {
    static func bgrewriteaof(_ call: Call) {
        if let error = call.server.startRewrite(reason: "BGREWRITEAOF") { return call.reply.error(error) }
        call.reply.simpleString("Background append only file rewriting started")
    }
}
