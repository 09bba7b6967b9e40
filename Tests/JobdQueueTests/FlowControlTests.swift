import Testing
@testable import JobdQueue
import JobdStore

private func b(_ s: String) -> [UInt8] { Array(s.utf8) }
private let t0 = Harness.epoch

private func rate(_ text: String) throws -> RateLimit? { try RateLimit.parse(b(text)) }

/// An engine whose `onReady` calls are counted per queue name.
private func readyCounter(_ h: Harness) -> () -> [String: Int] {
    final class Counts { var byName: [String: Int] = [:] }
    let counts = Counts()
    h.engine.onReady = { key in counts.byName[String(decoding: key.name, as: UTF8.self), default: 0] += 1 }
    return { counts.byName }
}

/// Worker slots leased and handed back the way a pool does it, without threads.
private final class WorkerSlots {
    let h: Harness
    let all = (0..<8).map { WorkerSlot(index: UInt32($0)) }
    init(_ h: Harness) { self.h = h }

    /// Leases jobs of `names` into the free slots; returns how many.
    func fill(_ names: [String]) -> Int {
        let free = all.filter { !$0.inUse }
        let n = h.engine.leaseToWorkers(free, count: free.count, database: 0, names: names.map(b), holder: -1,
                                        timeoutMillis: 0, now: h.now)
        for slot in free[..<n] { slot.inUse = true }
        return n
    }

    func finish(_ slot: WorkerSlot, _ outcome: WorkerSlot.Outcome = .succeeded) {
        slot.outcome = outcome
        h.engine.workerFinished(slot, holder: -1, retries: 0, now: h.now)
        slot.inUse = false
    }

    func finishAll() { for slot in all where slot.inUse { finish(slot) } }
}

@Suite(.serialized) struct FlowControlTests {
    // MARK: Rates and the bucket

    @Test func ratesParseAsAmountsPerSecondMinuteOrHourAndZeroOrOffIsNone() throws {
        #expect(try rate("100/s") == RateLimit(amount: 100, periodMillis: 1000))
        #expect(try rate("30/M") == RateLimit(amount: 30, periodMillis: 60_000))
        #expect(try rate("5/h") == RateLimit(amount: 5, periodMillis: 3_600_000))
        #expect(try rate("1000000000/s")?.amount == RateLimit.maxAmount)
        #expect(try rate("0") == nil)
        #expect(try rate("OFF") == nil)
        #expect(try rate("0/m") == nil)
        #expect(try rate("20/s")?.text == "20/s")
        #expect(try rate("7/m")?.text == "7/m")
        #expect(try rate("7/h")?.text == "7/h")
        for bad in ["", "abc", "10", "10/", "/s", "10/x", "10/sec", "-1/s", "1.5/s", "1000000001/s", "1/s/s", " 1/s", "99999999999999999999/s"] {
            do {
                _ = try rate(bad)
                Issue.record("'\(bad)' should not parse")
            } catch let error as JobError {
                #expect(error.text.hasPrefix("ERR invalid rate '"), "\(error.text)")
            }
        }
    }

    @Test func aNewBucketIsFullAndABurstIsAtMostTheAmount() throws {
        var bucket = TokenBucket(try #require(try rate("20/s")), now: t0)
        #expect(bucket.tokens(now: t0) == 20)
        for _ in 0..<20 { bucket.take() }
        #expect(bucket.tokens(now: t0) == 0)
        // However long the queue was idle, the bucket holds n tokens at most.
        #expect(bucket.tokens(now: t0 + 3_600_000) == 20)
        #expect(bucket.tokens(now: t0 + 3_600_000 + 10_000) == 20)
    }

    @Test func tokensRefillContinuouslyWithFractionsKept() throws {
        // 20/s: one token per 50 ms.
        var bucket = TokenBucket(try #require(try rate("20/s")), now: t0)
        for _ in 0..<20 { bucket.take() }
        #expect(bucket.nextTokenAt(now: t0) == t0 + 50)
        #expect(bucket.tokens(now: t0 + 49) == 0)
        #expect(bucket.nextTokenAt(now: t0 + 49) == t0 + 50)
        #expect(bucket.tokens(now: t0 + 50) == 1)
        #expect(bucket.tokens(now: t0 + 175) == 3)  // 3.5 tokens: the half is kept
        for _ in 0..<3 { bucket.take() }
        #expect(bucket.nextTokenAt(now: t0 + 175) == t0 + 200)
        #expect(bucket.tokens(now: t0 + 200) == 1)

        // 3/s: a token every 333⅓ ms, the thirds adding up.
        var thirds = TokenBucket(try #require(try rate("3/s")), now: t0)
        for _ in 0..<3 { thirds.take() }
        #expect(thirds.nextTokenAt(now: t0) == t0 + 334)
        #expect(thirds.tokens(now: t0 + 333) == 0)
        #expect(thirds.tokens(now: t0 + 334) == 1)
        #expect(thirds.tokens(now: t0 + 1000) == 3)

        // 60/m: one a second, refilled a millisecond at a time (not per whole second).
        var perMinute = TokenBucket(try #require(try rate("60/m")), now: t0)
        for _ in 0..<60 { perMinute.take() }
        for step in 1...999 where step % 111 == 0 { #expect(perMinute.tokens(now: t0 + Int64(step)) == 0) }
        #expect(perMinute.tokens(now: t0 + 1000) == 1)
        #expect(perMinute.tokens(now: t0 + 30_500) == 30)

        // 1/h: one token an hour.
        var perHour = TokenBucket(try #require(try rate("1/h")), now: t0)
        perHour.take()
        #expect(perHour.nextTokenAt(now: t0) == t0 + 3_600_000)
        #expect(perHour.tokens(now: t0 + 3_599_999) == 0)
        #expect(perHour.tokens(now: t0 + 3_600_000) == 1)
    }

    @Test func aClockSetBackDoesNotStallTheBucket() throws {
        var bucket = TokenBucket(try #require(try rate("10/s")), now: t0)
        for _ in 0..<10 { bucket.take() }
        #expect(bucket.tokens(now: t0 - 60_000) == 0)  // an hour back: no time passed
        #expect(bucket.tokens(now: t0 - 60_000 + 100) == 1)  // and it refills from there
    }

    // MARK: Leasing with a rate

    @Test func jobGetTakesAtMostTheBucketAndTheTimelineWakesTheQueueForTheNextToken() throws {
        try exclusive {
            let h = Harness()
            let ready = readyCounter(h)
            for i in 0..<30 { try h.add("q", "j\(i)") }
            let key = QueueKey(database: 0, name: b("q"))
            h.engine.setRate(key, try rate("10/s"), now: h.now)
            #expect(h.engine.nextDeadline == nil)
            #expect(h.lease("q", count: 100).count == 10)
            let state = try #require(h.state("q"))
            #expect(state.throttled == 1)
            // The next token is 100 ms away: that is the loop's next deadline (no polling before it).
            #expect(h.engine.nextDeadline == t0 + 100)
            #expect(h.lease("q").isEmpty)
            #expect(state.throttled == 2)
            #expect(h.engine.flowWakes.count == 1 && h.engine.timeline.count == 11)  // 10 lease ends; held back twice, one wake
            let before = ready()["q"] ?? 0
            h.advance(to: t0 + 99)
            #expect(ready()["q", default: 0] == before)
            #expect(h.lease("q").isEmpty)
            h.advance(to: t0 + 100)
            #expect(ready()["q", default: 0] == before + 1)  // blocked JOB.GETs of q are served now
            #expect(h.lease("q", count: 5).count == 1)
            #expect(h.engine.nextDeadline == t0 + 200)
            h.now = t0 + 1000
            #expect(h.lease("q", count: 100).count == 9)
            // Removing the limit lets everything go at once.
            h.engine.setRate(key, nil, now: h.now)
            #expect(!state.isLimited)
            #expect(h.lease("q", count: 100).count == 10)
        }
    }

    @Test func aThrottledQueueInFromIsSkippedForTheNext() throws {
        try exclusive {
            let h = Harness()
            try h.add("a", "a1", "PRIORITY", "0")
            try h.add("a", "a2", "PRIORITY", "0")
            try h.add("b", "b1", "PRIORITY", "9")
            h.engine.setRate(QueueKey(database: 0, name: b("a")), try rate("1/m"), now: h.now)
            let first = h.lease("a", "b", count: 3)
            #expect(first.map { String(decoding: $0.queue, as: UTF8.self) } == ["a", "b"])
            #expect(h.lease("a", "b").isEmpty)
            #expect(h.state("a")?.throttled == 3)
            #expect(h.state("b")?.throttled == 0)
        }
    }

    @Test func anUnlimitedQueueSchedulesNothingAndCountsNothing() throws {
        try exclusive {
            let h = Harness()
            for i in 0..<5 { try h.add("q", "j\(i)") }
            h.engine.setConcurrency(QueueKey(database: 0, name: b("q")), 0)
            h.engine.setRate(QueueKey(database: 0, name: b("q")), nil, now: h.now)
            #expect(h.lease("q", count: 10).count == 5)
            #expect(h.state("q")?.isLimited == false)
            #expect(h.state("q")?.throttled == 0)
            #expect(h.engine.timeline.count == 5 && h.engine.flowWakes.isEmpty)  // only lease ends
        }
    }

    // MARK: Concurrency

    @Test func concurrencyCountsALeaseUntilAckFailExpiryDisconnectOrCancel() throws {
        try exclusive {
            let h = Harness()
            let ready = readyCounter(h)
            for i in 0..<10 { try h.add("q", "j\(i)") }
            h.engine.setConcurrency(QueueKey(database: 0, name: b("q")), 2)
            let state = try #require(h.state("q"))
            var held = h.lease("q", count: 5, holder: 1, millis: 1000)
            #expect(held.count == 2 && state.active == 2)
            #expect(state.throttled == 1)
            #expect(h.lease("q", holder: 2).isEmpty)
            #expect(h.engine.nextDeadline == t0 + 1000)  // only the lease ends: concurrency needs no timer

            func freesOnePlace(_ what: String, _ end: () throws -> Void) throws {
                h.now += 10  // each lease its own deadline
                let before = ready()["q", default: 0]
                try end()
                #expect(state.active == 1, "after \(what)")
                #expect(ready()["q", default: 0] > before, "a blocked JOB.GET is woken after \(what)")
                let next = h.lease("q", count: 2, holder: 1, millis: 1000)
                #expect(next.count == 1, "one more after \(what)")
                held += next
                #expect(state.active == 2)
            }
            try freesOnePlace("an ack") { try h.ack(held.removeFirst()) }
            try freesOnePlace("a fail") { try h.fail(held.removeFirst(), retryIn: 60_000) }
            try freesOnePlace("a cancel") { _ = try h.engine.cancel(held.removeFirst().id, now: h.now) }
            // The lease of the oldest runs out first.
            try freesOnePlace("a lease expiry") {
                let first = held.removeFirst()
                h.advance(to: first.leaseDeadline)
                #expect(first.state == .dead)
            }
            try freesOnePlace("a disconnect") {
                let other = held.filter { $0.leaseHolder == 1 }
                #expect(other.count == 2)
                h.engine.releaseLeases(of: 1, now: h.now)
                held.removeAll()
                #expect(state.active == 0)
                // Both came back; take one of them again with another holder so one place is used.
                let again = h.lease("q", holder: 3, millis: 1000)
                #expect(again.count == 1)
                held += again
            }
            // Raising the limit lets more go at once.
            h.engine.setConcurrency(QueueKey(database: 0, name: b("q")), 4)
            #expect(h.lease("q", count: 10, holder: 3).count == 2)
            #expect(state.active == 4)
        }
    }

    @Test func rateAndConcurrencyTogetherTheTighterWins() throws {
        try exclusive {
            let h = Harness()
            for i in 0..<20 { try h.add("q", "j\(i)") }
            let key = QueueKey(database: 0, name: b("q"))
            h.engine.setRate(key, try rate("5/s"), now: h.now)
            h.engine.setConcurrency(key, 3)
            let first = h.lease("q", count: 10)
            #expect(first.count == 3)  // concurrency binds; no token wake is needed
            #expect(h.engine.nextDeadline == first[0].leaseDeadline)
            for r in first { try h.ack(r) }
            #expect(h.lease("q", count: 10).count == 2)  // 5 tokens, 3 spent: the rate binds now
            #expect(h.engine.nextDeadline == t0 + 200)
        }
    }

    // MARK: In-process workers

    @Test func workerLeasesTakeTokensAndPlacesAndCompletionsFreeThem() throws {
        try exclusive { try workerLeases() }
    }

    private func workerLeases() throws {
        let h = Harness()
        let ready = readyCounter(h)
        let key = QueueKey(database: 0, name: b("q"))
        let list = ListValue()
        h.engine.keyspace[0].add(b("q"), .list(list))
        for i in 0..<20 { list.push(b("p\(i)"), level: PriorityLevels.defaultLevel, atLevelHead: true) }
        h.engine.setRate(key, try rate("4/s"), now: h.now)
        h.engine.setConcurrency(key, 3)
        let slots = WorkerSlots(h)
        let state = try #require(h.state("q"))
        #expect(slots.fill(["q"]) == 3)  // the concurrency limit
        #expect(state.throttled == 1 && state.active == 3)
        let before = ready()["q", default: 0]
        slots.finish(slots.all[0])
        #expect(ready()["q", default: 0] == before + 1)  // a blocked JOB.GET may take the place
        #expect(slots.fill(["q"]) == 1)  // the 4th token
        #expect(state.active == 3)
        slots.finishAll()
        #expect(state.active == 0)
        #expect(slots.fill(["q"]) == 0)  // no token left
        #expect(h.engine.nextDeadline == t0 + 250)
        h.now = t0 + 250
        // Several queues go through the general path: the same limits hold.
        #expect(slots.fill(["q", "other"]) == 1)
        #expect(state.leased == 5 && state.completed == 4 && state.active == 1)
        // A job handed back unrun (a worker stopping) is requeued: its place is free again.
        let unrun = try #require(slots.all.first { $0.inUse })
        let woken = ready()["q", default: 0]
        slots.finish(unrun, .notRun)
        #expect(state.active == 0 && ready()["q", default: 0] > woken)
        #expect(h.engine.list(key)?.1.count == 16)
    }

    // MARK: Settings

    @Test func settingsAreLoggedOnlyWhenTheyChangeAndReplayToTheSameLimits() throws {
        try exclusive {
            let h = Harness(recording: true)
            let key = QueueKey(database: 0, name: b("q"))
            h.engine.setRate(key, try rate("20/s"), now: h.now)
            h.engine.setRate(key, try rate("20/s"), now: h.now)
            h.engine.setConcurrency(key, 3)
            h.engine.setConcurrency(key, 3)
            var spec = try QueueSpec.parse(["q", "rate", "20/s", "concurrency", "3", "priority", "5", "paused", "no"])
            h.engine.apply(spec, database: 0, now: h.now)  // changes nothing: logs nothing
            spec = try QueueSpec.parse(["q", "concurrency", "0", "priority", "2"])
            h.engine.apply(spec, database: 0, now: h.now)
            let lines = h.log.map { $0.words.map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ") }
            #expect(lines == ["JOBD QUEUE q RATE 20/s", "JOBD QUEUE q CONCURRENCY 3", "JOBD QUEUE q PRIORITY 2",
                              "JOBD QUEUE q CONCURRENCY 0"])
            let state = try #require(h.state("q"))
            #expect(state.rateLimit?.text == "20/s" && state.concurrencyLimit == 0 && state.defaultPriority == 2 && state.isLimited)

            let copy = Harness()
            for entry in h.log { try copy.engine.replay(Array(entry.words.dropFirst()), database: 0, now: entry.now) }
            let copied = try #require(copy.state("q"))
            #expect(copied.rateLimit == state.rateLimit && copied.concurrencyLimit == 0 && copied.isLimited)
            // An old log (no flow records) still loads, and a bad flow record is refused.
            #expect(throws: JobError.self) { try copy.engine.replay(["QUEUE", "q", "RATE", "fast"].map(b), database: 0, now: t0) }
            #expect(throws: JobError.self) { try copy.engine.replay(["QUEUE", "q", "CONCURRENCY", "-1"].map(b), database: 0, now: t0) }
            #expect(throws: JobError.self) { try copy.engine.replay(["QUEUE", "q", "CONCURRENCY"].map(b), database: 0, now: t0) }
            #expect(throws: JobError.self) { try copy.engine.replay(["QUEUE", "q"].map(b), database: 0, now: t0) }
            #expect(throws: JobError.self) { try copy.engine.replay(["QUEUE"].map(b), database: 0, now: t0) }

            // A log rewrite keeps them.
            let snapshot = h.engine.snapshotRecords().map { $0.words.map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ") }
            #expect(snapshot == ["JOBD QUEUE q PRIORITY 2", "JOBD QUEUE q RATE 20/s"])
        }
    }

    @Test func configLinesParseAndBadOnesSayWhy() throws {
        let spec = try QueueSpec.parse(["emails", "rate", "100/s", "CONCURRENCY", "5", "priority", "1", "paused", "yes"])
        #expect(spec.name == b("emails") && spec.rate == .some(RateLimit(amount: 100, periodMillis: 1000)))
        #expect(spec.concurrency == 5 && spec.priority == 1 && spec.paused == true)
        #expect(spec.configWords == ["emails", "priority", "1", "rate", "100/s", "concurrency", "5", "paused", "yes"])
        let off = try QueueSpec.parse(["q", "rate", "off"])
        #expect(off.rate == .some(nil) && off.concurrency == nil && off.configWords == ["q", "rate", "0"])
        let cases: [([String], String)] = [
            ([], "queue: expected"), (["q"], "queue: expected"), (["q", "rate"], "queue: expected"),
            (["q", "rate", "fast"], "queue: invalid rate 'fast'"), (["q", "concurrency", "-1"], "queue: concurrency must"),
            (["q", "concurrency", "x"], "queue: concurrency must"), (["q", "priority", "11"], "queue: priority must"),
            (["q", "paused", "maybe"], "queue: paused must"), (["q", "speed", "1"], "queue: unknown option 'speed'"),
        ]
        for (words, message) in cases {
            do {
                _ = try QueueSpec.parse(words)
                Issue.record("\(words) should not parse")
            } catch {
                #expect(error.message.hasPrefix(message), "\(words): \(error.message)")
            }
        }
    }

    @Test func aFlushDropsAPendingWakeAndItsQueue() throws {
        try exclusive {
            let h = Harness()
            let ready = readyCounter(h)
            try h.add("q", "j1")
            try h.add("q", "j2")
            h.engine.setRate(QueueKey(database: 0, name: b("q")), try rate("1/s"), now: h.now)
            #expect(h.lease("q", count: 2).count == 1)
            #expect(h.engine.flowWakes.count == 1)
            h.engine.keyspace[0].removeAll()
            h.engine.removeAll(database: 0)
            #expect(h.engine.flowWakes.isEmpty)
            let before = ready()["q", default: 0]
            h.advance(to: t0 + 1000)
            #expect(ready()["q", default: 0] == before)
        }
    }
}
