/// `jobd dead QUEUE [--count N] [--requeue]`: the dead letters of a queue
/// (QUEUE.DEAD), or all of them sent back to pending (QUEUE.REQUEUE ALL).
enum DeadCommand: ClientSubcommand {
    static let name = "dead"
    static let usage = """
    usage: jobd dead QUEUE [--count N] [--requeue]
      Lists the queue's dead letters, oldest first: id, attempts, when it
      died, the last error and the payload (both cut to fit a line).
      --count N     the first N of them (default 100)
      --requeue     send every dead letter back to pending instead; prints how many
    """
    static let valueOptions: Set<String> = ["--count"]
    static let flagOptions: Set<String> = ["--requeue"]

    static let errorWidth = 50
    static let payloadWidth = 40

    static func run(_ arguments: ClientArguments) throws -> Int32 {
        let queue = try arguments.expectPositionals("QUEUE")[0]
        let count = try arguments.integer("--count", in: 1...1_000_000)
        if arguments.has("--requeue") {
            guard count == nil else { throw ClientError.usage("--count lists; --requeue sends back every dead letter") }
            let connection = try ClientCommand.connect(arguments.address)
            let moved = try ClientCommand.call(connection, "QUEUE.REQUEUE", queue, "ALL").integerValue ?? 0
            ClientCommand.writeOut(lines: ["requeued \(moved) dead letter\(moved == 1 ? "" : "s") of \(queue)"])
            return 0
        }
        let connection = try ClientCommand.connect(arguments.address)
        let reply = try ClientCommand.call(connection, ["QUEUE.DEAD", queue] + (count.map { ["COUNT", String($0)] } ?? []))
        let letters = reply.items ?? []
        guard !letters.isEmpty else {
            ClientCommand.writeOut(lines: ["no dead letters in \(queue)"])
            return 0
        }
        var table = TablePrinter(titles: ["id", "attempts", "finished", "last error", "payload"], rightAligned: ["attempts"])
        for letter in letters {
            // [id, payload, attempts, last error or null, finished]
            guard let fields = letter.items, fields.count == 5 else { continue }
            table.add([
                TablePrinter.printable(fields[0].bytes ?? []),
                String(fields[2].integerValue ?? 0),
                Timestamps.format(fields[4].integerValue ?? 0),
                TablePrinter.truncate(fields[3].bytes.map(TablePrinter.printable) ?? "-", to: errorWidth),
                TablePrinter.truncate(TablePrinter.printable(fields[1].bytes ?? []), to: payloadWidth),
            ])
        }
        ClientCommand.writeOut(lines: table.render())
        return 0
    }
}
