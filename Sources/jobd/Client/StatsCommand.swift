import JobdRESP
import JobdSystem
import Glibc

/// `jobd stats [--watch] [--interval 2s]`: QUEUE.LIST, then QUEUE.STATS of
/// every queue, as one table; `--watch` redraws it until Ctrl-C.
enum StatsCommand: ClientSubcommand {
    static let name = "stats"
    static let usage = """
    usage: jobd stats [--watch] [--interval DURATION]
      One line per queue of the database: pending, delayed, active, completed,
      failed, dead, enqueue and complete rates (per second over 10 s), the age of
      the oldest pending job, paused, and in-process workers (busy/total).
      --watch             redraw every interval until Ctrl-C (a table per interval
                          when stdout is not a terminal)
      --interval DURATION between redraws with --watch (default 2s)
    """
    static let valueOptions: Set<String> = ["--interval"]
    static let flagOptions: Set<String> = ["--watch"]

    static let columns = ["queue", "pending", "delayed", "active", "completed", "failed", "dead",
                          "enqueue/s", "complete/s", "oldest pending", "paused", "workers"]

    static func run(_ arguments: ClientArguments) throws -> Int32 {
        _ = try arguments.expectPositionals()
        let interval = try arguments.duration("--interval", allowZero: false) ?? 2000
        guard interval <= 86_400_000 else { throw ClientError.usage("--interval must be at most 1d") }
        if arguments.has("--interval") && !arguments.has("--watch") {
            throw ClientError.usage("--interval goes with --watch")
        }
        let connection = try ClientCommand.connect(arguments.address)
        guard arguments.has("--watch") else {
            ClientCommand.writeOut(lines: try table(connection))
            return 0
        }
        return try watch(connection, address: arguments.address, intervalMillis: interval)
    }

    /// The table's lines, or one line saying there are no queues.
    static func table(_ connection: RESPConnection) throws -> [String] {
        let names = try ClientCommand.call(connection, "QUEUE.LIST").items ?? []
        if names.isEmpty { return ["no queues"] }
        let replies = try connection.pipeline(names.map { [Array("QUEUE.STATS".utf8), $0.bytes ?? []] })
        var table = TablePrinter(titles: columns, rightAligned: Set(columns).subtracting(["queue", "paused"]))
        for (name, reply) in zip(names, replies) {
            // A key that stopped being a list between the two calls answers WRONGTYPE: no row.
            guard let stats = reply.fields else { continue }
            table.add(row(name: TablePrinter.printable(name.bytes ?? []), stats))
        }
        return table.isEmpty ? ["no queues"] : table.render()
    }

    static func row(name: String, _ stats: [(name: String, value: RESPValue)]) -> [String] {
        func count(_ field: String) -> String { String(stats[field: field]?.integerValue ?? 0) }
        func rate(_ field: String) -> String { format2(stats[field: field]?.doubleValue ?? 0) }
        let oldest = stats[field: "oldest_pending_ms"]?.integerValue ?? 0
        let pools = stats[field: "workers"]?.items?.compactMap(\.fields) ?? []
        let busy = pools.reduce(0) { $0 + ($1[field: "busy"]?.integerValue ?? 0) }
        let total = pools.reduce(0) { $0 + ($1[field: "concurrency"]?.integerValue ?? 0) }
        return [name, count("pending"), count("delayed"), count("active"), count("completed"), count("failed"), count("dead"),
                rate("enqueue_rate"), rate("complete_rate"), oldest > 0 ? Durations.describe(oldest) : "-",
                stats[field: "paused"]?.integerValue == 1 ? "yes" : "no", pools.isEmpty ? "-" : "\(busy)/\(total)"]
    }

    /// Redraws until SIGINT or SIGTERM, then exits 0. On a terminal each
    /// frame overwrites the last in place (cursor home, each line cleared to
    /// its end, the rest of the screen cleared), so nothing scrolls; into a
    /// pipe or file each frame is a table followed by a blank line.
    static func watch(_ connection: RESPConnection, address: ServerAddress, intervalMillis: Int64) throws -> Int32 {
        // The signals arrive on a descriptor, so the wait between frames ends at once on Ctrl-C.
        let signals = try ShutdownSignals()
        let terminal = isatty(1) == 1
        if terminal { write("\u{1B}[?25l\u{1B}[H\u{1B}[2J") }  // hide the cursor, clear once
        defer { if terminal { write("\u{1B}[?25h") } }
        while true {
            let heading = "jobd stats  \(address.endpoint.text)  db \(address.database)  every \(Durations.describe(intervalMillis))"
                + "  \(Timestamps.format(Clock.wallMillis()))  (Ctrl-C to quit)"
            let lines = [heading, ""] + (try table(connection))
            let frame = terminal ? "\u{1B}[H" + lines.map { $0 + "\u{1B}[K\n" }.joined() + "\u{1B}[J"
                                 : lines.joined(separator: "\n") + "\n\n"
            // Nobody reads any more (the pipe's reader is gone): done.
            guard write(frame) else { return 0 }
            if waitForSignal(signals.fd, millis: intervalMillis) { return 0 }
        }
    }

    @discardableResult
    static func write(_ text: String) -> Bool { ClientCommand.writeOut(Array(text.utf8)) }

    /// True when a signal arrived within `millis`.
    static func waitForSignal(_ fd: Int32, millis: Int64) -> Bool {
        let deadline = Clock.monotonicNanos() + millis * 1_000_000
        while true {
            let now = Clock.monotonicNanos()
            if now >= deadline { return false }
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let timeout = Int32(min((deadline - now) / 1_000_000 + 1, Int64(Int32.max)))
            if poll(&entry, 1, timeout) > 0 { return true }
        }
    }
}
