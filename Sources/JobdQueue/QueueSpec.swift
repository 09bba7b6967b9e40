import JobdStore

/// A `queue` line of the config file: settings applied to a queue (of
/// database 0) once the log is loaded, so that the file wins over the log
/// for the settings it names; the others keep their logged values.
///
///     queue <name> [priority p] [rate n/s|n/m|n/h|0] [concurrency n] [paused yes|no]
public struct QueueSpec: Sendable, Equatable {
    public var name: [UInt8]
    public var priority: Int?
    /// nil: not named; .some(nil): `rate 0` (no limit).
    public var rate: RateLimit??
    public var concurrency: Int?
    public var paused: Bool?

    public static let maxConcurrency = 1_000_000

    public init(name: [UInt8]) { self.name = name }

    public struct ParseError: Error, Sendable { public let message: String }

    public static func parse(_ words: [String]) throws(ParseError) -> QueueSpec {
        let usage = "queue: expected 'queue <name> [priority 0-10] [rate n/s|n/m|n/h|0] [concurrency n] [paused yes|no]'"
        guard words.count >= 2, words.count % 2 == 1, !words[0].isEmpty else { throw ParseError(message: usage) }
        var spec = QueueSpec(name: Array(words[0].utf8))
        for i in stride(from: 1, to: words.count, by: 2) {
            let value = words[i + 1]
            switch words[i].lowercased() {
            case "priority":
                guard let p = Int(value), PriorityLevels.range.contains(p) else {
                    throw ParseError(message: "queue: priority must be an integer from 0 (most urgent) to 10")
                }
                spec.priority = p
            case "rate":
                do throws(JobError) { spec.rate = .some(try RateLimit.parse(Array(value.utf8))) } catch {
                    throw ParseError(message: "queue: " + error.text.dropFirst(4))
                }
            case "concurrency":
                guard let n = Int(value), (0...maxConcurrency).contains(n) else {
                    throw ParseError(message: "queue: concurrency must be an integer from 0 (no limit) to \(maxConcurrency)")
                }
                spec.concurrency = n
            case "paused":
                switch value.lowercased() {
                case "yes": spec.paused = true
                case "no": spec.paused = false
                default: throw ParseError(message: "queue: paused must be yes or no")
                }
            default:
                throw ParseError(message: "queue: unknown option '\(words[i])' (priority, rate, concurrency or paused)")
            }
        }
        return spec
    }

    /// The line as it would be written in the config file.
    public var configWords: [String] {
        var words = [String(decoding: name, as: UTF8.self)]
        if let priority { words += ["priority", String(priority)] }
        if let rate { words += ["rate", rate?.text ?? "0"] }
        if let concurrency { words += ["concurrency", String(concurrency)] }
        if let paused { words += ["paused", paused ? "yes" : "no"] }
        return words
    }
}
