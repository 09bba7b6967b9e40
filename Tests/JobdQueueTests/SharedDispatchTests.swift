import Testing
import Glibc
@testable import JobdQueue
import JobdStore
import JobdSystem
import Synchronization

private func b(_ s: String) -> [UInt8] { Array(s.utf8) }

/// A door a closure handler waits at, so a test can hold a job in its worker.
private final class Gate: Sendable {
    private let open = Atomic<Bool>(false)
    func pass() { while !open.load(ordering: .acquiring) { usleep(100) } }
    func release() { open.store(true, ordering: .releasing) }
}

/// The pool fed through one shared MPMC ring (`DispatchMode.mpmcShared`):
/// jobs done exactly once under real threads, priority order, scaling and
/// draining. Pool behaviour common to both modes is in WorkerPoolTests.
/// Also run under ThreadSanitizer (see scripts/test).
@Suite(.serialized) struct SharedDispatchTests {
    /// The results `onFinished` saw, each payload counted.
    private static func results(_ h: PoolHarness) -> () -> [String: Int] {
        var counts: [String: Int] = [:]
        h.engine.onFinished = { counts[String(decoding: $0.result ?? [], as: UTF8.self), default: 0] += 1 }
        return { counts }
    }

    @Test func everyJobIsDoneExactlyOnceInBurstsBetweenWhichWorkersPark() throws {
        try exclusive {
            let h = PoolHarness()
            let seen = Self.results(h)
            let pool = try h.start("q echo concurrency 4", mode: .mpmcShared)
            var total = 0
            // Small bursts with idle gaps: each burst must wake parked workers
            // (a lost wakeup leaves a job in the ring and the drive times out).
            for burst in 0..<300 {
                let size = 1 + burst % 5
                h.pushPlain("q", (0..<size).map { "job\(total + $0)" })
                total += size
                h.drive { pool.stats.completed == total }
            }
            // Then one large batch, taken by whichever workers are free.
            h.pushPlain("q", (total..<(total + 5000)).map { "job\($0)" })
            total += 5000
            h.drive { pool.stats.completed == total }
            let counts = seen()
            #expect(counts.count == total)
            #expect(counts.values.allSatisfy { $0 == 1 })
            #expect(pool.running == 0 && pool.slotsInUse.isEmpty && pool.stats.handedBack == 0)
        }
    }

    @Test(arguments: DispatchMode.allCases) func aSingleWorkerRunsJobsInPriorityOrder(mode: DispatchMode) throws {
        try exclusive {
            let h = PoolHarness()
            var rng = SplitMix(state: 8)
            var expected: [(priority: Int, order: Int, payload: String)] = []
            for i in 0..<200 {
                let priority = Int(rng.next() % 10)
                _ = try h.add("q", "p\(priority)-\(i)", "PRIORITY", String(priority))
                expected.append((priority, i, "p\(priority)-\(i)"))
            }
            var order: [String] = []
            h.engine.onFinished = { order.append(String(decoding: $0.result ?? [], as: UTF8.self)) }
            let pool = try h.start("q echo", mode: mode)
            h.drive { pool.stats.completed == 200 }
            #expect(order == expected.sorted { ($0.priority, $0.order) < ($1.priority, $1.order) }.map(\.payload))
        }
    }

    @Test(arguments: DispatchMode.allCases) func anUrgentJobArrivingLaterOvertakesQueuedOnes(mode: DispatchMode) throws {
        try exclusive {
            let h = PoolHarness()
            let gate = Gate()
            var spec = WorkerPoolSpec(queues: [b("q")], handler: .closure { job in
                if job.payload == b("first") { gate.pass() }
                return job.payload
            })
            spec.dispatchMode = mode
            for name in ["first", "low1", "low2", "low3"] { _ = try h.add("q", name, "PRIORITY", "5") }
            var order: [String] = []
            h.engine.onFinished = { order.append(String(decoding: $0.result ?? [], as: UTF8.self)) }
            let pool = try h.start(spec)
            h.drive { pool.running == 1 }
            _ = try h.add("q", "urgent", "PRIORITY", "0")
            gate.release()
            h.drive { pool.stats.completed == 5 }
            #expect(order == ["first", "urgent", "low1", "low2", "low3"])
        }
    }

    @Test(arguments: [("q noop concurrency 4", ["a", "b", "c"], 1), ("q sleep concurrency 4", ["1", "1", "1"], 3)])
    func aRefillWakesOneWorkerForAFastHandlerAndOnePerJobForASlowOne(line: String, jobs: [String], woken: Int) throws {
        try exclusive {
            let h = PoolHarness()
            let pool = try h.start(line, mode: .mpmcShared)
            let deadline = Clock.monotonicNanos() + 10_000_000_000
            while pool.idleWorkers < 4 && Clock.monotonicNanos() < deadline { usleep(1000) }
            #expect(pool.idleWorkers == 4)
            let before = pool.workersWoken
            h.pushPlain("q", jobs)
            pool.refill(h.engine, now: h.now)
            #expect(pool.workersWoken - before == woken)
            h.drive { pool.stats.completed == jobs.count }
        }
    }

    @Test func scalingDownAndUpKeepsEveryJobAndTheSlabToThePoolsSize() throws {
        try exclusive {
            let h = PoolHarness()
            let seen = Self.results(h)
            let pool = try h.start("q echo concurrency 4", mode: .mpmcShared)
            let depth = JobHandler.echo.ringDepth
            h.pushPlain("q", (0..<30000).map { "job\($0)" })
            h.drive { pool.stats.completed >= 2000 }
            try pool.scale(to: 1)
            #expect(pool.concurrency == 1)
            h.drive { pool.stats.completed >= 10000 }
            // Slots that came back after the scale down were set aside.
            #expect(pool.running <= depth)
            try pool.scale(to: 3)
            h.drive { pool.stats.completed >= 20000 }
            try pool.scale(to: 2)
            h.drive { pool.stats.completed == 30000 }
            let counts = seen()
            #expect(counts.count == 30000 && counts.values.allSatisfy { $0 == 1 })
            // Stopped workers leave the shared ring to the others: nothing handed back.
            #expect(pool.stats.handedBack == 0)
            h.drive { pool.running == 0 }
            #expect(h.engine.list(QueueKey(database: 0, name: b("q"))) == nil)
        }
    }

    @Test func afterAScaleToZeroAndBackStoppedWorkersLeaveTheRingToTheOthersAgain() throws {
        try exclusive {
            let h = PoolHarness()
            let pool = try h.start("q echo concurrency 2", mode: .mpmcShared)
            #expect(!pool.stoppedWorkersHandBack)
            try pool.scale(to: 0)
            #expect(pool.stoppedWorkersHandBack, "no worker is left to take what is in the ring")
            h.drive { pool.running == 0 }
            try pool.scale(to: 3)
            #expect(!pool.stoppedWorkersHandBack, "there are workers again")
            h.pushPlain("q", (0..<5000).map { "job\($0)" })
            try pool.scale(to: 2)
            h.drive { pool.stats.completed + pool.stats.handedBack == 5000 && pool.running == 0 }
            #expect(pool.stats.handedBack == 0)
            pool.drain()
            #expect(pool.stoppedWorkersHandBack)
        }
    }

    @Test func scalingDownWhileEveryWorkerIsBusyLetsTheirJobsFinish() throws {
        try exclusive {
            let h = PoolHarness()
            h.pushPlain("q", ["200", "200", "200", "10", "10"])
            let pool = try h.start("q sleep concurrency 3", mode: .mpmcShared)
            h.drive { pool.running == 3 }
            try pool.scale(to: 1)
            h.drive { pool.stats.completed == 5 }
            #expect(pool.stats.handedBack == 0 && pool.concurrency == 1)
        }
    }

    @Test func drainingRunsOrHandsBackEveryJobAndNothingIsLost() throws {
        try exclusive {
            let h = PoolHarness()
            let key = QueueKey(database: 0, name: b("q"))
            h.pushPlain("q", (0..<5000).map { "job\($0)" })
            let pool = try h.start("q noop concurrency 2", mode: .mpmcShared)
            h.drive { pool.stats.completed >= 1000 }
            // Right after a refill, so that slots wait in the ring while the workers stop.
            pool.refill(h.engine, now: h.now)
            pool.drain()
            h.drive { pool.isIdle }
            let left = h.engine.list(key)?.1.count ?? 0
            #expect(pool.stats.completed + left == 5000)
            #expect(pool.stats.handedBack == h.log.filter { $0.words[1] == b("REQUEUE") }.count)
            let queue = try #require(h.engine.queue(key))
            #expect(queue.active == 0 && queue.completed == pool.stats.completed)
            // Nothing more is handed out once draining.
            for _ in 0..<10 {
                pool.collect(h.engine, now: h.now)
                pool.refill(h.engine, now: h.now)
            }
            #expect(pool.running == 0 && (h.engine.list(key)?.1.count ?? 0) == left)
        }
    }
}
