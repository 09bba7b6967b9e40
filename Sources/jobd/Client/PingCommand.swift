import JobdSystem

/// `jobd ping`: PING, and how long the answer took.
enum PingCommand: ClientSubcommand {
    static let name = "ping"
    static let usage = """
    usage: jobd ping
      Sends PING; prints the reply and the round-trip time in milliseconds.
    """
    static let valueOptions: Set<String> = []
    static let flagOptions: Set<String> = []

    static func run(_ arguments: ClientArguments) throws -> Int32 {
        _ = try arguments.expectPositionals()
        let connection = try ClientCommand.connect(arguments.address)
        let started = Clock.monotonicNanos()
        let reply = try ClientCommand.call(connection, "PING")
        let elapsed = Double(Clock.monotonicNanos() - started) / 1e6
        ClientCommand.writeOut(lines: ["\(reply.text ?? reply.description) (\(format2(elapsed)) ms)"])
        return 0
    }
}
