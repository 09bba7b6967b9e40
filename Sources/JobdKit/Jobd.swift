import JobdQueue
import JobdServer

@_exported import struct JobdQueue.WorkerJob

/// jobd inside your own program: the whole server (RESP port, log,
/// queues) plus handlers written as Swift closures, run by in-process
/// worker threads.
///
///     let jobd = try Jobd(arguments: ["--port", "6380"])
///     jobd.handle("emails", concurrency: 4) { job in
///         try send(job.payload)
///         return Array("sent".utf8)      // the job's result
///     }
///     exit(jobd.run())
///
/// A handler that throws fails the attempt (the error's description is the
/// job's error; retried while `retries` allow). Handlers run on worker
/// threads, several at once with `concurrency` > 1.
public final class Jobd {
    public let config: ServerConfig

    public init(config: ServerConfig = ServerConfig()) { self.config = config }

    /// Settings as `jobd serve` flags (`--port 6380 --dir ./data`).
    public convenience init(arguments: [String]) throws {
        let config = ServerConfig()
        try ConfigLoader.apply(ConfigLoader.flagsToText(arguments), source: "the command line", to: config)
        self.init(config: config)
    }

    /// Runs `body` for every job of `queue` (comma-separated for several, most urgent first).
    /// `timeoutMillis` is not enforced on closures (a thread cannot be stopped); it is reported.
    public func handle(_ queue: String, concurrency: Int = 1, retries: Int = 0,
                       _ body: @escaping @Sendable (WorkerJob) throws -> [UInt8]) {
        var spec = WorkerPoolSpec(queues: queue.split(separator: ",").map { Array($0.utf8) }, handler: .closure(body))
        spec.concurrency = max(1, min(concurrency, WorkerPoolSpec.maxConcurrency))
        spec.retries = max(0, retries)
        config.workers.append(spec)
    }

    /// Serves until SIGTERM/SIGINT or SHUTDOWN; returns the exit status.
    public func run() -> Int32 { ServerLauncher.run(config: config, version: "0.1.0-embedded") }
}
