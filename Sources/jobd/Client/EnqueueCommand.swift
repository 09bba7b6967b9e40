import Glibc

/// `jobd enqueue QUEUE PAYLOAD [options]`: one JOB.ADD; prints the job's id.
enum EnqueueCommand: ClientSubcommand {
    static let name = "enqueue"
    static let usage = """
    usage: jobd enqueue QUEUE PAYLOAD [options]
      Adds a job (JOB.ADD) and prints its id. PAYLOAD '-' reads it from stdin
      (any bytes); put '--' before a payload that starts with '-'.
      Durations: 250ms, 30s, 5m, 2h, 1d, or a plain number of milliseconds.

      --priority N        0 (most urgent) to 10; default: the queue's (5)
      --delay DURATION    run no earlier than this from now
      --at TIME           run no earlier than this: Unix milliseconds or ISO 8601
                          (2025-06-01T09:00:00Z, 2025-06-01 09:00+02:00; UTC without an offset)
      --retries N         retry a failed attempt up to N times
      --backoff DURATION  wait before a retry, doubling each attempt
      --backoff-max DURATION   at most this long (with --backoff)
      --jitter            a random wait below the backoff (with --backoff)
      --timeout DURATION  lease length per attempt
      --ttl DURATION      expire if not started within this
      --unique KEY        reply the existing job's id while one with KEY is waiting or running
      --unique-for DURATION    ... or started less than this ago (with --unique)
      --result-ttl DURATION    keep the result this long
      --id ID             the job's id instead of a generated one
    """
    static let valueOptions: Set<String> = [
        "--priority", "--delay", "--at", "--retries", "--backoff", "--backoff-max", "--timeout", "--ttl",
        "--unique", "--unique-for", "--result-ttl", "--id",
    ]
    static let flagOptions: Set<String> = ["--jitter"]

    static func run(_ arguments: ClientArguments) throws -> Int32 {
        let positionals = try arguments.expectPositionals("QUEUE", "PAYLOAD")
        let words = try addWords(queue: positionals[0], payload: positionals[1], arguments)
        let connection = try ClientCommand.connect(arguments.address)
        let reply = try ClientCommand.call(connection, words)
        ClientCommand.writeOut((reply.bytes ?? Array(reply.description.utf8)) + [10])
        return 0
    }

    /// The JOB.ADD command for the options given; checks what JOB.ADD cannot
    /// say as clearly (an option that needs another one, a bad duration).
    static func addWords(queue: String, payload: String, _ arguments: ClientArguments) throws -> [[UInt8]] {
        guard !queue.isEmpty else { throw ClientError.usage("QUEUE must not be empty") }
        var options: [String] = []
        func add(_ word: String, _ value: String?) {
            if let value { options += [word, value] }
        }
        add("PRIORITY", try arguments.integer("--priority", in: 0...10).map(String.init))
        if arguments.has("--delay") && arguments.has("--at") { throw ClientError.usage("--delay and --at cannot both be given") }
        add("DELAY", try arguments.duration("--delay").map(String.init))
        if let at = arguments.value("--at") {
            guard let millis = Timestamps.parse(at) else {
                throw ClientError.usage("--at must be Unix milliseconds or an ISO 8601 time like 2025-06-01T09:00:00Z, got '\(at)'")
            }
            add("AT", String(millis))
        }
        add("RETRIES", try arguments.integer("--retries", in: 0...1_000_000).map(String.init))
        if let backoff = try arguments.duration("--backoff") {
            add("BACKOFF", String(backoff))
            add("MAX", try arguments.duration("--backoff-max").map(String.init))
            if arguments.has("--jitter") { options.append("JITTER") }
        } else if arguments.has("--backoff-max") || arguments.has("--jitter") {
            throw ClientError.usage("--backoff-max and --jitter need --backoff")
        }
        add("TIMEOUT", try arguments.duration("--timeout", allowZero: false).map(String.init))
        add("TTL", try arguments.duration("--ttl", allowZero: false).map(String.init))
        if let key = arguments.value("--unique") {
            guard !key.isEmpty else { throw ClientError.usage("--unique needs a non-empty key") }
            add("UNIQUE", key)
            add("FOR", try arguments.duration("--unique-for").map(String.init))
        } else if arguments.has("--unique-for") {
            throw ClientError.usage("--unique-for needs --unique")
        }
        add("RESULTTTL", try arguments.duration("--result-ttl").map(String.init))
        add("ID", arguments.value("--id"))
        let body = payload == "-" ? try readStandardInput() : Array(payload.utf8)
        return [Array("JOB.ADD".utf8), Array(queue.utf8), body] + options.map { Array($0.utf8) }
    }

    /// All of stdin, byte for byte.
    static func readStandardInput() throws -> [UInt8] {
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(0, $0.baseAddress, $0.count) }
            if n == 0 { return data }
            if n < 0 {
                if errno == EINTR { continue }
                throw ClientError.connection("cannot read the payload from stdin: \(String(cString: strerror(errno)))")
            }
            data += chunk[0..<n]
        }
    }
}
