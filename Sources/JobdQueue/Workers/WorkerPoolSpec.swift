import Glibc

/// What an in-process worker runs for each job.
public enum JobHandler: Sendable {
    /// Completes at once with no result (benchmarks).
    case noop
    /// Completes with the payload as its result.
    case echo
    /// Sleeps for the payload's milliseconds, then completes.
    case sleep
    /// Always fails (tests of retries and dead letters).
    case fail
    /// Runs a program: payload on stdin, stdout the result, exit status the outcome.
    case exec(path: String, arguments: [String])
    /// A closure registered by a program that embeds jobd (JobdKit).
    case closure(@Sendable (WorkerJob) throws -> [UInt8])

    public var name: String {
        switch self {
        case .noop: "noop"
        case .echo: "echo"
        case .sleep: "sleep"
        case .fail: "fail"
        case .exec: "exec"
        case .closure: "closure"
        }
    }

    /// How many jobs wait in a worker's ring while it runs one. Fast
    /// handlers get a few so the worker never waits for the engine; slow
    /// ones get none, so that a job never waits behind a busy worker while
    /// another is idle, and a new urgent job is not stuck behind it.
    var ringDepth: Int {
        switch self {
        case .noop, .echo, .fail: 8
        case .sleep, .exec, .closure: 1
        }
    }

    /// Jobs of a refill one woken worker is left to run (shared dispatch).
    /// A built-in fast handler runs a refill's jobs in well under the time
    /// a futex wake takes, so one worker is woken per refill; any other
    /// handler may take long, so every job gets a worker of its own.
    var jobsPerWake: Int {
        switch self {
        case .noop, .echo, .fail: Int.max
        case .sleep, .exec, .closure: 1
        }
    }
}

/// How a pool hands jobs to its workers (issue 8 asks for both to be
/// measured; `jobd bench` part 2 prints them side by side).
public enum DispatchMode: String, Sendable, CaseIterable {
    /// Each worker has its own slots and SPSC dispatch and completion rings;
    /// the engine deals the most urgent jobs round-robin over the workers.
    case spscPerWorker = "spsc"
    /// The pool's slots go through one shared MPMC ring that any idle worker
    /// pops, and come back through one shared MPMC completion ring.
    case mpmcShared = "mpmc"

    /// The faster on `jobd bench --only dispatch` (2 cores, 20 alternating
    /// runs each): as fast with one worker, about 15% more jobs/s and a lower
    /// enqueue→complete latency with 2 and 4, since a job goes to whichever
    /// worker is free instead of waiting in a busy worker's ring.
    public static let standard = DispatchMode.mpmcShared

    /// `JOBD_DISPATCH=spsc|mpmc`, so that `jobd bench` can compare the modes
    /// end to end through a server it starts; not a documented setting.
    public static var fromEnvironment: DispatchMode {
        guard let value = getenv("JOBD_DISPATCH") else { return standard }
        return DispatchMode(rawValue: String(cString: value)) ?? standard
    }
}

/// One job as a closure handler sees it.
public struct WorkerJob: Sendable {
    public let id: [UInt8]
    public let queue: [UInt8]
    public let payload: [UInt8]
    public let attempt: Int
    public let priority: Int
}

/// A `worker` line of the config file:
///
///     worker <queue>[,<queue>...] <handler> [args...] [concurrency N] [timeout ms] [retries n]
///
/// Options are read from the end of the line, so an exec handler's own
/// arguments may be anything that is not one of them in the last places.
public struct WorkerPoolSpec: Sendable {
    public var queues: [[UInt8]]
    public var handler: JobHandler
    public var concurrency = 1
    /// Milliseconds a job may run (0: no limit), unless the job has its own TIMEOUT.
    public var timeoutMillis: Int64 = 0
    /// Retries of a job that has none of its own (a plain LPUSH, or JOB.ADD without RETRIES).
    public var retries = 0
    /// The database of its queues.
    public var database = 0
    /// Not part of the config line: how jobs reach the workers.
    public var dispatchMode = DispatchMode.standard

    public static let maxConcurrency = 1024

    public init(queues: [[UInt8]], handler: JobHandler) {
        self.queues = queues
        self.handler = handler
    }

    /// The pool's name: its queues as written (`q1,q2`).
    public var name: String { queues.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ",") }

    public struct ParseError: Error, Sendable { public let message: String }

    public static func parse(_ words: [String]) throws(ParseError) -> WorkerPoolSpec {
        var words = words
        var concurrency = 1, timeout: Int64 = 0, retries = 0
        func value(_ text: String, _ range: ClosedRange<Int64>, _ what: String) throws(ParseError) -> Int64 {
            guard let v = Int64(text), range.contains(v) else {
                throw ParseError(message: "worker: \(what) must be an integer in \(range.lowerBound)..\(range.upperBound)")
            }
            return v
        }
        while words.count >= 4 {
            let option = words[words.count - 2].lowercased(), text = words[words.count - 1]
            switch option {
            case "concurrency": concurrency = Int(try value(text, 1...Int64(maxConcurrency), "concurrency"))
            case "timeout": timeout = try value(text, 0...(Int64.max / 4), "timeout")
            case "retries": retries = Int(try value(text, 0...1_000_000, "retries"))
            default: break
            }
            guard ["concurrency", "timeout", "retries"].contains(option) else { break }
            words.removeLast(2)
        }
        guard words.count >= 2 else {
            throw ParseError(message: "worker: expected 'worker <queue>[,<queue>...] <handler> [args...] [concurrency N] [timeout ms] [retries n]'")
        }
        let queues = words[0].split(separator: ",", omittingEmptySubsequences: false).map { Array($0.utf8) }
        guard !queues.contains(where: \.isEmpty) else { throw ParseError(message: "worker: empty queue name in '\(words[0])'") }
        let handler: JobHandler
        let arguments = Array(words[2...])
        switch words[1].lowercased() {
        case "noop": handler = .noop
        case "echo": handler = .echo
        case "sleep": handler = .sleep
        case "fail": handler = .fail
        case "exec":
            guard let path = arguments.first else { throw ParseError(message: "worker: exec needs the path of a program") }
            handler = .exec(path: path, arguments: Array(arguments.dropFirst()))
        default:
            throw ParseError(message: "worker: unknown handler '\(words[1])' (exec, noop, echo, sleep or fail)")
        }
        if case .exec = handler {} else if !arguments.isEmpty {
            throw ParseError(message: "worker: handler '\(words[1])' takes no arguments")
        }
        var spec = WorkerPoolSpec(queues: queues, handler: handler)
        spec.concurrency = concurrency
        spec.timeoutMillis = timeout
        spec.retries = retries
        return spec
    }

    /// The same queues, handler and options, concurrency aside: a reload
    /// keeps the running pool of such a line and only scales it. Closure
    /// handlers cannot be compared and never match.
    public func doesSameWork(as other: WorkerPoolSpec) -> Bool {
        if case .closure = handler { return false }
        var mine = self, theirs = other
        (mine.concurrency, theirs.concurrency) = (0, 0)
        return mine.configWords == theirs.configWords && mine.database == theirs.database
    }

    /// The line as it would be written in the config file (words unquoted).
    public var configLine: String { configWords.joined(separator: " ") }

    public var configWords: [String] {
        var words = [name, handler.name]
        if case let .exec(path, arguments) = handler { words += [path] + arguments }
        words += ["concurrency", String(concurrency)]
        if timeoutMillis > 0 { words += ["timeout", String(timeoutMillis)] }
        if retries > 0 { words += ["retries", String(retries)] }
        return words
    }
}
