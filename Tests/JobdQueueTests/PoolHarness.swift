import Testing
import Glibc
@testable import JobdQueue
import JobdStore
import JobdSystem

private func b(_ s: String) -> [UInt8] { Array(s.utf8) }

/// An engine with a worker pool, driven the way the server's loop drives
/// it (collect, then refill), with every log record it writes.
final class PoolHarness {
    let engine = JobEngine(keyspace: Keyspace(databaseCount: 1, now: 0))
    let wakeFD = try! EventFD()
    var now: Int64 = 1_000_000
    var log: [(words: [[UInt8]], now: Int64)] = []
    var pools: [WorkerPool] = []

    init() {
        engine.onRecord = { [unowned self] _, encode in self.log.append((decodeRecord(encode), self.now)) }
    }

    deinit { for pool in pools { pool.stopAll() } }

    func start(_ line: String, mode: DispatchMode = .standard) throws -> WorkerPool {
        var spec = try WorkerPoolSpec.parse(line.split(separator: " ").map(String.init))
        spec.dispatchMode = mode
        return try start(spec)
    }

    func start(_ spec: WorkerPoolSpec) throws -> WorkerPool {
        let pool = try engine.startPool(spec, wake: EngineWake(eventFD: wakeFD))
        pools.append(pool)
        return pool
    }

    func pushPlain(_ queue: String, _ payloads: [String]) {
        let key = QueueKey(database: 0, name: b(queue))
        let list = engine.list(key)?.1 ?? ListValue()
        if engine.list(key) == nil { engine.keyspace[0].add(b(queue), .list(list)) }
        for p in payloads { list.push(b(p), level: PriorityLevels.defaultLevel, atLevelHead: true) }
    }

    func add(_ queue: String, _ payload: String, _ options: String...) throws -> JobRecord {
        let request = try JobRequestParser.parse(queue: b(queue), payload: b(payload), words: options.map(b)[...], now: now)
        return try engine.add(request, database: 0, now: now).record
    }

    /// Runs loop turns until `done` (fails the test after 10 s).
    func drive(until done: () -> Bool) {
        let deadline = Clock.monotonicNanos() + 10_000_000_000
        while !done() {
            guard Clock.monotonicNanos() < deadline else {
                Issue.record("the pool did not get there in 10 s")
                return
            }
            now += 1
            for pool in pools {
                pool.collect(engine, now: now)
                pool.refill(engine, now: now)
            }
            usleep(200)
        }
    }
}
