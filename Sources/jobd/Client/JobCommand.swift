import JobdRESP

/// `jobd job ID`: JOB.INFO as `field: value` lines, times in UTC and
/// durations readable.
enum JobCommand: ClientSubcommand {
    static let name = "job"
    static let usage = """
    usage: jobd job ID
      Prints what the server knows of a job (JOB.INFO): state, queue, priority,
      attempts, times, errors. An unknown id is an error (exit status 1).
    """
    static let valueOptions: Set<String> = []
    static let flagOptions: Set<String> = []

    /// Unix-millisecond fields, shown as ISO 8601 (0: never).
    static let timeFields: Set<String> = ["created", "scheduled", "started", "finished", "lease_deadline", "expires"]
    /// Millisecond durations, shown with a unit.
    static let durationFields: Set<String> = ["lease_remaining_ms", "backoff", "timeout", "ttl"]

    static func run(_ arguments: ClientArguments) throws -> Int32 {
        let id = try arguments.expectPositionals("ID")[0]
        let connection = try ClientCommand.connect(arguments.address)
        guard let fields = try ClientCommand.call(connection, "JOB.INFO", id).fields else {
            throw ClientError.connection("JOB.INFO gave an unexpected reply")
        }
        ClientCommand.writeOut(lines: lines(fields))
        return 0
    }

    static func lines(_ fields: [(name: String, value: RESPValue)]) -> [String] {
        var lines: [String] = []
        for (name, value) in fields {
            if name == "errors" {
                // The last few errors, oldest first, one per line.
                let errors = value.items ?? []
                lines.append("errors: \(errors.isEmpty ? "-" : String(errors.count))")
                for (index, error) in errors.enumerated() {
                    lines.append("  \(index + 1)) \(TablePrinter.printable(error.bytes ?? []))")
                }
                continue
            }
            lines.append("\(name): \(shown(name, value))")
        }
        return lines
    }

    static func shown(_ name: String, _ value: RESPValue) -> String {
        if case .null = value { return "-" }
        if let number = value.integerValue {
            if timeFields.contains(name) { return number == 0 ? "-" : "\(Timestamps.format(number)) (\(number))" }
            if durationFields.contains(name) { return number == 0 ? "0" : Durations.describe(number) }
            // -1: no result stored.
            if name == "result_size" && number < 0 { return "-" }
        }
        return value.bytes.map(TablePrinter.printable) ?? value.description
    }
}
