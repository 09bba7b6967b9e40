import JobdStore
import JobdSystem

/// `jobd bench` part 2: the dispatch core without the network. An engine
/// (no log) on the calling thread pushes plain jobs into a queue and runs
/// the pool's collect/refill loop, as the server's loop does each turn;
/// `workers` threads run the `noop` handler, fed as `mode` says.
public enum DispatchBenchmark {
    public struct Result: Sendable {
        public var jobsPerSecond: Double
        /// Enqueue → complete, for jobs enqueued one per worker at a time.
        public var p50Micros: Double
        public var p99Micros: Double
    }

    public static func run(workers: Int, jobs: Int, mode: DispatchMode = .standard,
                           latencySamples: Int = 20_000) throws -> Result {
        let keyspace = Keyspace(databaseCount: 1)
        let engine = JobEngine(keyspace: keyspace)
        let wakeFD = try EventFD()
        var spec = WorkerPoolSpec(queues: [Array("bench".utf8)], handler: .noop)
        spec.concurrency = workers
        spec.dispatchMode = mode
        let pool = try engine.startPool(spec, wake: EngineWake(eventFD: wakeFD))
        defer { pool.stopAll() }
        let payload = Array(repeating: UInt8(ascii: "x"), count: 100)

        // Throughput: every job queued first, then the loop runs until all are done.
        let list = ListValue()
        for _ in 0..<jobs { payload.withUnsafeBytes { list.push($0, level: PriorityLevels.defaultLevel, atLevelHead: true) } }
        keyspace[0].add(Array("bench".utf8), .list(list))
        let started = Clock.monotonicNanos()
        runUntil(completed: jobs, pool, engine)
        let seconds = Double(Clock.monotonicNanos() - started) / 1e9

        // Latency: one job per worker, timed from its push to the turn that sees it done.
        var samples: [Int64] = []
        samples.reserveCapacity(latencySamples)
        while samples.count < latencySamples {
            let before = pool.stats.completed
            let pushedAt = Clock.monotonicNanos()
            let db = keyspace[0]
            let batch = ListValue()
            for _ in 0..<workers { payload.withUnsafeBytes { batch.push($0, level: PriorityLevels.defaultLevel, atLevelHead: true) } }
            db.add(Array("bench".utf8), .list(batch))
            var seen = 0
            while seen < workers {
                pool.collect(engine, now: 0)
                pool.refill(engine, now: 0)
                let done = pool.stats.completed - before
                if done > seen {
                    let now = Clock.monotonicNanos()
                    for _ in seen..<done { samples.append(now - pushedAt) }
                    seen = done
                }
            }
        }
        samples.sort()
        func micros(_ q: Double) -> Double { Double(samples[min(samples.count - 1, Int(Double(samples.count) * q))]) / 1000 }
        return Result(jobsPerSecond: Double(jobs) / seconds, p50Micros: micros(0.5), p99Micros: micros(0.99))
    }

    private static func runUntil(completed target: Int, _ pool: WorkerPool, _ engine: JobEngine) {
        let before = pool.stats.completed
        while pool.stats.completed - before < target {
            pool.collect(engine, now: 0)
            pool.refill(engine, now: 0)
        }
    }
}
