import Testing
@testable import JobdQueue
import JobdStore

/// Which queue states the engine keeps: a plain push makes one; one that
/// saw only plain pushes goes a while after its list.
@Suite(.serialized) struct QueueLifetimeTests {
    private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    /// A plain LPUSH of `count` jobs, as ListCommands.push does it.
    private func plainPush(_ h: Harness, _ queue: String, count: Int = 1) -> QueueState {
        let state = bytes(queue).withUnsafeBytes { h.engine.queueForPush(database: 0, $0) }
        let db = h.engine.keyspace[0]
        let list: ListValue
        if let (_, existing) = h.engine.list(state.key) { list = existing } else {
            list = ListValue()
            db.add(bytes(queue), .list(list))
        }
        for _ in 0..<count { bytes("job").withUnsafeBytes { list.pushFront($0) } }
        h.engine.notePush(state, level: state.defaultPriority, count: count, frontOfLine: false, now: h.now)
        return state
    }

    private func removeList(_ h: Harness, _ queue: String) {
        let db = h.engine.keyspace[0]
        if let entry = bytes(queue).withUnsafeBytes({ db.lookup($0) }) { db.remove(entry) }
    }

    private func key(_ queue: String) -> QueueKey { QueueKey(database: 0, name: bytes(queue)) }

    @Test func aPlainPushIsCountedFromTheFirstJob() {
        exclusive {
            let h = Harness()
            let state = plainPush(h, "fresh", count: 3)
            #expect(state.enqueued == 3)
            #expect(h.engine.queue(key("fresh")) === state)
            h.now += 5000
            #expect(h.engine.oldestPendingAge(state, list: h.engine.list(state.key)?.1, now: h.now) == 5000)
        }
    }

    @Test func aQueueOfPlainPushesGoesAfterItsListHasBeenGoneForTheLingerTime() {
        exclusive {
            let h = Harness()
            _ = plainPush(h, "reply:1")
            h.engine.sweepPlainQueues(now: h.now)
            #expect(h.engine.queue(key("reply:1")) != nil, "its list is there")
            removeList(h, "reply:1")
            h.engine.sweepPlainQueues(now: h.now)  // first seen gone
            h.engine.sweepPlainQueues(now: h.now + JobEngine.plainQueueLinger - 1)
            #expect(h.engine.queue(key("reply:1")) != nil, "kept for the linger time")
            h.engine.sweepPlainQueues(now: h.now + JobEngine.plainQueueLinger)
            #expect(h.engine.queue(key("reply:1")) == nil)
            #expect(h.engine.plainQueues.isEmpty)
        }
    }

    @Test func aListThatComesBackRestartsTheLingerClock() {
        exclusive {
            let h = Harness()
            _ = plainPush(h, "q")
            removeList(h, "q")
            h.engine.sweepPlainQueues(now: h.now)
            _ = plainPush(h, "q")
            h.engine.sweepPlainQueues(now: h.now + 1)
            removeList(h, "q")
            h.engine.sweepPlainQueues(now: h.now + JobEngine.plainQueueLinger)
            #expect(h.engine.queue(key("q")) != nil, "gone for less than the linger time")
        }
    }

    @Test func aQueueTheEngineUsedIsKeptForGood() throws {
        try exclusive {
            let h = Harness()
            _ = plainPush(h, "work")
            let job = try #require(h.leaseOne("work"))
            try h.ack(job)
            removeList(h, "work")
            for step in 0..<3 { h.engine.sweepPlainQueues(now: h.now + Int64(step) * JobEngine.plainQueueLinger) }
            #expect(h.engine.queue(key("work"))?.completed == 1)
            #expect(h.engine.plainQueues.isEmpty, "no longer a candidate")
        }
    }

    @Test func theSweepLooksAtABoundedNumberPerCall() {
        exclusive {
            let h = Harness()
            for i in 0..<10 { _ = plainPush(h, "r\(i)"); removeList(h, "r\(i)") }
            h.engine.sweepPlainQueues(now: h.now, budget: 4)
            #expect(h.engine.plainQueues.filter { $0.listGoneSince != 0 }.count == 4)
        }
    }
}
