import Testing
import Glibc
@testable import JobdQueue
import JobdRESP
import JobdStore
import JobdSystem

private func b(_ s: String) -> [UInt8] { Array(s.utf8) }

/// The pool's behaviour, in each dispatch mode.
@Suite(.serialized) struct WorkerPoolTests {
    @Test(arguments: DispatchMode.allCases) func plainJobsRunWithoutRecordsAndTheLogReplaysToTheSameState(mode: DispatchMode) throws {
        try exclusive {
            let h = PoolHarness()
            h.pushPlain("q", (0..<40).map { "job\($0)" })
            let added = try h.add("q", "with-id", "ID", "mine")
            let pool = try h.start("q noop concurrency 3", mode: mode)
            h.drive { pool.stats.completed == 41 }
            #expect(h.engine.list(QueueKey(database: 0, name: b("q"))) == nil)
            // Only the JOB.ADD job keeps a record; nobody holds the plain jobs' ids.
            #expect(h.engine.records.count == 1 && added.state == .completed)
            let queue = try #require(h.engine.queue(QueueKey(database: 0, name: b("q"))))
            #expect(queue.completed == 41 && queue.active == 0 && queue.leased == 41)
            #expect(h.log.filter { $0.words[1] == b("LEASE") }.count == 41)
            #expect(h.log.filter { $0.words[1] == b("ACK") }.count == 41)

            // The log replayed over the same plain pushes ends in the same state.
            let copy = PoolHarness()
            copy.pushPlain("q", (0..<40).map { "job\($0)" })
            for entry in h.log {
                try copy.engine.replay(Array(entry.words.dropFirst()), database: 0, now: entry.now)
            }
            #expect(copy.engine.list(QueueKey(database: 0, name: b("q"))) == nil)
            #expect(copy.engine.records.keys.sorted() == h.engine.records.keys.sorted())
            #expect(copy.engine.job(b("mine"))?.state == .completed)
            #expect(copy.engine.queue(QueueKey(database: 0, name: b("q")))?.completed == 41)
        }
    }

    @Test(arguments: DispatchMode.allCases) func aFailedPlainJobGetsARecordIsRetriedByThePoolRulesAndDies(mode: DispatchMode) throws {
        try exclusive {
            let h = PoolHarness()
            h.pushPlain("q", ["doomed"])
            let pool = try h.start("q fail retries 2", mode: mode)
            h.drive { h.engine.count(in: .dead) == 1 }
            let dead = try #require(h.engine.records.values.first)
            #expect(dead.attempts == 3 && dead.errors.count == 3)
            #expect(dead.errors.last == b("failed by the 'fail' handler"))
            #expect(dead.payload == b("doomed"))
            #expect(pool.stats.failed == 3)
            // JOB.ADD's own RETRIES wins over the pool's.
            let own = try h.add("q", "x", "RETRIES", "1")
            h.drive { own.state == .dead }
            #expect(own.attempts == 2)
        }
    }

    @Test(arguments: DispatchMode.allCases) func aRunningPlainJobCanBeLookedUpAndCanceled(mode: DispatchMode) throws {
        try exclusive {
            let h = PoolHarness()
            h.pushPlain("q", ["5000"])
            let pool = try h.start("q sleep", mode: mode)
            h.drive { pool.running == 1 }
            let id = JobRecord.decimalID(pool.slotsInUse[0].handle)
            let record = try #require(h.engine.job(id))
            #expect(record.state == .active && record.attempts == 1 && record.payload == b("5000"))
            let started = Clock.monotonicNanos()
            _ = try h.engine.cancel(id, now: h.now)
            #expect(record.state == .canceled)
            h.drive { pool.running == 0 }
            #expect((Clock.monotonicNanos() - started) / 1_000_000 < 3000, "the sleep handler stops when canceled")
            #expect(pool.stats.canceled == 1 && record.state == .canceled)
        }
    }

    @Test(arguments: DispatchMode.allCases) func theMostUrgentJobAcrossThePoolsQueuesGoesFirst(mode: DispatchMode) throws {
        try exclusive {
            let h = PoolHarness()
            _ = try h.add("a", "a-normal")
            _ = try h.add("b", "b-urgent", "PRIORITY", "0")
            _ = try h.add("a", "a-low", "PRIORITY", "9")
            _ = try h.add("b", "b-normal")
            let pool = try h.start("a,b echo", mode: mode)
            var order: [String] = []
            h.engine.onFinished = { order.append(String(decoding: $0.result ?? [], as: UTF8.self)) }
            h.drive { pool.stats.completed == 4 }
            #expect(order == ["b-urgent", "a-normal", "b-normal", "a-low"])
        }
    }

    @Test(arguments: DispatchMode.allCases) func flushingTheDatabaseWhileJobsRunLeavesTheCountsAlone(mode: DispatchMode) throws {
        try exclusive {
            let h = PoolHarness()
            h.pushPlain("q", ["300", "300"])
            let pool = try h.start("q sleep concurrency 2", mode: mode)
            h.drive { pool.running == 2 }
            h.engine.removeAll(database: nil)
            let logged = h.log.count
            h.drive { pool.running == 0 }
            // Their outcomes are dropped: an ACK of a flushed job would not replay.
            #expect(h.log.count == logged)
            // The pool's queue is known again (refills look at it), with nothing counted from before.
            let queue = h.engine.queue(QueueKey(database: 0, name: b("q")))
            #expect(queue == nil || (queue!.active == 0 && queue!.completed == 0 && queue!.failed == 0))
            #expect(h.engine.records.isEmpty)
        }
    }

    @Test func workerLinesParseWithOptionsFromTheEnd() throws {
        let spec = try WorkerPoolSpec.parse(["a,b", "exec", "/bin/tool", "--timeout", "timeout", "9", "concurrency", "4"])
        #expect(spec.queues == [b("a"), b("b")] && spec.concurrency == 4 && spec.timeoutMillis == 9)
        guard case let .exec(path, arguments) = spec.handler else { Issue.record("not exec"); return }
        #expect(path == "/bin/tool" && arguments == ["--timeout"])
        #expect(spec.configLine == "a,b exec /bin/tool --timeout concurrency 4 timeout 9")
        for bad in [["q"], ["q", "bogus"], ["q", "noop", "concurrency", "0"], ["q", "exec"], ["q", "echo", "x"],
                    ["a,,b", "noop"], ["q", "noop", "retries", "-1"]] {
            #expect(throws: WorkerPoolSpec.ParseError.self, "\(bad)") { try WorkerPoolSpec.parse(bad) }
        }
    }

    @Test(arguments: DispatchMode.allCases) func aPoolRemovedByAReloadLeavesItsLeaseHolderIdUnused(mode: DispatchMode) throws {
        try exclusive {
            let h = PoolHarness()
            let first = try h.start("a noop", mode: mode), second = try h.start("b noop", mode: mode)
            first.drain()
            h.drive { first.isIdle }
            h.engine.removePool(first)
            let third = try h.start("c noop", mode: mode)
            #expect(h.engine.pools.map(\.holderID) == [second.holderID, third.holderID])
            // Leases are matched to pools by holder: a new pool must not take a live pool's id.
            #expect(Set([first.holderID, second.holderID, third.holderID]).count == 3)
        }
    }

    @Test func aReloadKeepsAPoolWhoseLineDiffersOnlyInConcurrency() throws {
        func spec(_ line: String) throws -> WorkerPoolSpec { try WorkerPoolSpec.parse(line.split(separator: " ").map(String.init)) }
        #expect(try spec("q exec /bin/x a concurrency 2").doesSameWork(as: spec("q exec /bin/x a concurrency 5")))
        #expect(try spec("q noop").doesSameWork(as: spec("q noop concurrency 1")))
        #expect(try !spec("q exec /bin/x a").doesSameWork(as: spec("q exec /bin/x b")))
        #expect(try !spec("q noop").doesSameWork(as: spec("q echo")))
        #expect(try !spec("q noop").doesSameWork(as: spec("q,r noop")))
        #expect(try !spec("q noop timeout 5").doesSameWork(as: spec("q noop")))
        #expect(try !spec("q noop retries 2").doesSameWork(as: spec("q noop")))
        let closure = WorkerPoolSpec(queues: [b("q")], handler: .closure { _ in [] })
        #expect(!closure.doesSameWork(as: closure))
    }

    @Test func handlerTimesGiveAMeanAndAP99WithinABucket() {
        var stats = WorkerPoolStats()
        let slot = WorkerSlot(index: 0)
        slot.outcome = .succeeded
        for i in 1...1000 {
            slot.handlerNanos = Int64(i) * 1_000_000 / 100  // 0.01 ms … 10 ms
            stats.record(slot)
        }
        #expect(stats.completed == 1000)
        #expect(abs(stats.meanMillis - 5.005) < 0.001)
        #expect(stats.p99Millis > 9.9 * 0.8 && stats.p99Millis < 9.9 * 1.25)
    }
}
