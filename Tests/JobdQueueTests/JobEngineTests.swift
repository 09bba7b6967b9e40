import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import JobdQueue
import JobdRESP
import JobdStore

// MARK: - Helpers

private func b(_ s: String) -> [UInt8] { Array(s.utf8) }
private func str(_ bytes: [UInt8]?) -> String? { bytes.map { String(decoding: $0, as: UTF8.self) } }

private let t0 = Harness.epoch

/// Checks that a throwing call fails with a JobError whose text starts with `prefix`.
private func expectJobError(_ prefix: String, _ context: String = "",
                            sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected an error starting with '\(prefix)' \(context)", sourceLocation: sourceLocation)
    } catch let error as JobError {
        #expect(error.text.hasPrefix(prefix), "'\(error.text)' should start with '\(prefix)' \(context)",
                sourceLocation: sourceLocation)
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
}

@Suite(.serialized) struct JobEngineTests {
    // MARK: State transitions

    @Test func anAddedJobIsPendingInItsQueuesListTaggedWithItsHandle() throws {
        try exclusive {
            let h = Harness()
            let r = try h.add("q", "p1")
            #expect(r.state == .pending)
            #expect(r.attempts == 0)
            #expect(r.payload == nil)  // the list element holds the bytes
            #expect(r.id == b(String(r.handle)))
            #expect(h.list("q").map(\.payload) == ["p1"])
            #expect(h.list("q").map(\.tag) == [r.handle])
            #expect(h.engine.job(r.id) === r)
            #expect(h.engine.count(in: .pending) == 1)
            #expect(h.engine.totals.added == 1)
        }
    }

    @Test func aDelayedJobWaitsOffTheListUntilAdvancePassesItsRunTime() throws {
        try exclusive {
            let h = Harness()
            let r = try h.add("q", "later", "DELAY", "500")
            #expect(r.state == .delayed)
            #expect(r.scheduledAt == t0 + 500)
            #expect(r.payload == b("later"))
            #expect(h.list("q").isEmpty)
            #expect(h.state("q")?.delayed == 1)
            #expect(h.engine.nextDeadline == t0 + 500)
            h.advance(to: t0 + 499)
            #expect(r.state == .delayed)
            h.advance(to: t0 + 500)
            #expect(r.state == .pending)
            #expect(r.scheduledAt == t0 + 500)
            #expect(h.list("q").map(\.payload) == ["later"])
            #expect(h.state("q")?.delayed == 0)
            let at = try h.add("q", "at", "AT", String(t0 + 2000))
            #expect(at.state == .delayed)
            #expect(at.scheduledAt == t0 + 2000)
        }
    }

    @Test func aLeasedJobIsActiveAndAnAckedOneCompletedWithItsResult() throws {
        try exclusive {
            let h = Harness()
            let r = try h.add("q", "work", "TIMEOUT", "700")
            h.now += 10
            let leased = h.lease("q", holder: 42)
            #expect(leased.count == 1)
            #expect(leased.first === r)
            #expect(r.state == .active)
            #expect(r.attempts == 1)
            #expect(r.payload == b("work"))
            #expect(r.startedAt == t0 + 10)
            #expect(r.leaseHolder == 42)
            #expect(r.leaseDeadline == t0 + 10 + 700)  // the job's TIMEOUT
            #expect(h.list("q").isEmpty)
            #expect(h.engine.list(QueueKey(database: 0, name: b("q"))) == nil)  // an emptied list is deleted
            #expect(h.state("q")?.active == 1)
            h.now += 5
            try h.ack(r, "the result", holder: 42)
            #expect(r.state == .completed)
            #expect(r.result == b("the result"))
            #expect(r.finishedAt == t0 + 15)
            #expect(r.leaseHolder == 0)
            #expect(h.state("q")?.active == 0)
            #expect(h.state("q")?.completed == 1)
            #expect(h.engine.leaseHolderCount == 0)
        }
    }

    @Test func leaseLengthComesFromTheCallThenTheJobThenTheSetting() throws {
        try exclusive {
            let h = Harness()
            h.engine.settings.leaseTimeout = 1234
            try h.add("q", "a")
            try h.add("q", "b", "TIMEOUT", "50")
            try h.add("q", "c", "TIMEOUT", "50")
            #expect(h.leaseOne("q")?.leaseDeadline == t0 + 1234)
            #expect(h.leaseOne("q")?.leaseDeadline == t0 + 50)
            #expect(h.leaseOne("q", millis: 9)?.leaseDeadline == t0 + 9)
            #expect(h.leaseOne("q") == nil)
        }
    }

    @Test func aFailureWithRetriesLeftIsDelayedByItsBackoff() throws {
        try exclusive {
            let h = Harness()
            let r = try h.add("q", "x", "RETRIES", "3", "BACKOFF", "100", "MAX", "250")
            var expected: [Int64] = [100, 200, 250]
            while !expected.isEmpty {
                let delay = expected.removeFirst()
                #expect(h.leaseOne("q") === r)
                try h.fail(r, "e\(r.attempts)")
                #expect(r.state == .delayed)
                #expect(r.scheduledAt == h.now + delay)
                #expect(h.list("q").isEmpty)
                h.advance(to: r.scheduledAt - 1)
                #expect(r.state == .delayed)
                h.advance(to: r.scheduledAt)
                #expect(r.state == .pending)
            }
            #expect(h.leaseOne("q") === r)
            try h.fail(r, "last")
            #expect(r.state == .dead)
            #expect(r.attempts == 4)
            #expect(r.errors.map { str($0)! } == ["e1", "e2", "e3", "last"])
            #expect(h.state("q")?.dead == [r.handle])
            #expect(h.state("q")?.failed == 4)
        }
    }

    @Test func aFailureWithZeroBackoffIsPendingAgainAtOnce() throws {
        try exclusive {
            let h = Harness()
            try h.add("q", "other")
            let r = try h.add("q", "x", "RETRIES", "1")
            #expect(h.lease("q", count: 2).count == 2)
            try h.fail(r)
            #expect(r.state == .pending)
            #expect(r.attempts == 1)
            #expect(h.list("q").map(\.tag) == [r.handle])
            #expect(h.state("q")?.delayed == 0)
        }
    }

    @Test func theLastFailureMakesTheJobDeadKeepingTheLastFiveErrors() throws {
        try exclusive {
            let h = Harness()
            let r = try h.add("q", "x", "RETRIES", "6")
            for i in 1...7 {
                #expect(h.leaseOne("q") === r)
                try h.fail(r, "error \(i)")
            }
            #expect(r.state == .dead)
            #expect(r.attempts == 7)
            #expect(r.errors.count == JobRecord.errorHistory)
            #expect(r.errors.map { str($0)! } == (3...7).map { "error \($0)" })
            #expect(r.finishedAt == h.now)
            #expect(h.engine.totals.dead == 1)
            #expect(h.engine.deadLetters(QueueKey(database: 0, name: b("q")), count: 10).map(\.handle) == [r.handle])
        }
    }

    @Test func failDeadSkipsTheRemainingRetries() throws {
        try exclusive {
            let h = Harness()
            let r = try h.add("q", "x", "RETRIES", "5", "BACKOFF", "10")
            _ = h.leaseOne("q")
            try h.fail(r, "fatal", dead: true)
            #expect(r.state == .dead)
            #expect(r.errors == [b("fatal")])
        }
    }

    @Test func retryInOverridesTheBackoffEvenWithoutRetriesLeft() throws {
        try exclusive {
            let h = Harness()
            let r = try h.add("q", "x", "BACKOFF", "10")
            _ = h.leaseOne("q")
            try h.fail(r, retryIn: 5000)
            #expect(r.state == .delayed)
            #expect(r.scheduledAt == h.now + 5000)
            h.advance(to: h.now + 5000)
            #expect(r.state == .pending)
            _ = h.leaseOne("q")
            try h.fail(r, retryIn: 0)
            #expect(r.state == .pending)
            #expect(r.attempts == 2)
        }
    }

    @Test func aLeaseThatRunsOutIsAFailedAttempt() throws {
        try exclusive {
            let h = Harness()
            let r = try h.add("q", "x", "RETRIES", "1", "BACKOFF", "100")
            _ = h.leaseOne("q", holder: 3, millis: 1000)
            h.advance(to: t0 + 999)
            #expect(r.state == .active)
            h.advance(to: t0 + 1000)
            #expect(r.state == .delayed)
            #expect(r.errors == [b("lease expired")])
            #expect(r.scheduledAt == t0 + 1100)
            #expect(r.leaseHolder == 0)
            #expect(h.engine.leaseHolderCount == 0)
            h.advance(to: t0 + 1100)
            _ = h.leaseOne("q", holder: 3, millis: 1000)
            h.advance(to: t0 + 2100)
            #expect(r.state == .dead)
            #expect(r.errors == [b("lease expired"), b("lease expired")])
            // The worker's late ack is refused.
            expectJobError("ERR job '\(str(r.id)!)' is dead, not active") { try h.ack(r, holder: 3) }
        }
    }

    @Test func touchingALeaseMovesItsDeadline() throws {
        try exclusive {
            let h = Harness()
            let r = try h.add("q", "x")
            _ = h.leaseOne("q", millis: 1000)
            h.now = t0 + 900
            #expect(try h.engine.touch(r.id, millis: nil, holder: 1, now: h.now) == t0 + 1900)
            h.advance(to: t0 + 1000)  // the old deadline's entry is stale
            #expect(r.state == .active)
            h.advance(to: t0 + 1900)
            #expect(r.state == .dead)
        }
    }

    @Test func releasedLeasesGoBackToTheFrontOfTheirLevelWithTheAttemptCounted() throws {
        try exclusive {
            let h = Harness()
            let a = try h.add("q", "a")
            let c = try h.add("q", "c", "PRIORITY", "2")
            try h.add("q", "b")
            try h.add("q", "d", "PRIORITY", "8")
            #expect(h.lease("q", count: 2, holder: 9).map(\.handle) == [c.handle, a.handle])
            try h.add("q", "e")
            h.now += 100
            h.engine.releaseLeases(of: 9, now: h.now)
            #expect(a.state == .pending)
            #expect(c.state == .pending)
            #expect(a.attempts == 1)
            #expect(a.leaseHolder == 0)
            #expect(h.engine.leaseHolderCount == 0)
            #expect(h.state("q")?.active == 0)
            #expect(h.line("q") == ["c", "a", "b", "e", "d"])
            #expect(h.list("q").map(\.level) == [8, 5, 5, 5, 2])
            #expect(h.leaseOne("q") === c)
            #expect(c.attempts == 2)
            h.engine.releaseLeases(of: 12345, now: h.now)  // unknown holder: nothing happens
            #expect(c.state == .active)
        }
    }

    @Test func ttlExpiresPendingAndDelayedJobsThatHaveNotStarted() throws {
        try exclusive {
            let h = Harness()
            let pending = try h.add("q", "p", "TTL", "500")
            let keep = try h.add("q", "keep")
            let delayed = try h.add("q", "d", "TTL", "300", "DELAY", "1000")
            let started = try h.add("r", "s", "TTL", "500")
            _ = h.leaseOne("r")
            #expect(pending.expiresAt == t0 + 500)
            h.advance(to: t0 + 299)
            #expect(delayed.state == .delayed)
            h.advance(to: t0 + 300)
            #expect(delayed.state == .expired)
            #expect(h.state("q")?.delayed == 0)
            h.advance(to: t0 + 500)
            #expect(pending.state == .expired)
            #expect(pending.payload == b("p"))
            #expect(pending.finishedAt == t0 + 500)
            #expect(h.list("q").map(\.tag) == [keep.handle])
            #expect(started.state == .active)
            #expect(h.state("q")?.expired == 2)
            h.advance(to: t0 + 1000)  // the stale due entry of the expired delayed job does nothing
            #expect(delayed.state == .expired)
            #expect(h.list("q").count == 1)
        }
    }

    @Test func cancelingAPendingJobRemovesItsListElement() throws {
        try exclusive {
            let h = Harness()
            let a = try h.add("q", "a")
            let b2 = try h.add("q", "b", "PRIORITY", "1")
            let c = try h.add("q", "c")
            #expect(try h.engine.cancel(a.id, now: h.now) === a)
            #expect(a.state == .canceled)
            #expect(a.payload == b("a"))
            #expect(h.list("q").map(\.payload) == ["c", "b"])
            #expect(h.list("q").map(\.tag) == [c.handle, b2.handle])
            _ = try h.engine.cancel(b2.id, now: h.now)
            _ = try h.engine.cancel(c.id, now: h.now)
            #expect(h.engine.list(QueueKey(database: 0, name: b("q"))) == nil)
            #expect(h.state("q")?.canceled == 3)
            expectJobError("ERR job '\(str(a.id)!)' is already canceled") { _ = try h.engine.cancel(a.id, now: h.now) }
            expectJobError("ERR no such job 'nope'") { _ = try h.engine.cancel(b("nope"), now: h.now) }
            #expect(DroppedJobTags.tags.isEmpty)  // the engine's own removals are not "taken"
        }
    }

    @Test func cancelingDelayedAndActiveJobs() throws {
        try exclusive {
            let h = Harness()
            let d = try h.add("q", "d", "DELAY", "100")
            let a = try h.add("q", "a")
            _ = h.leaseOne("q", holder: 4)
            _ = try h.engine.cancel(d.id, now: h.now)
            _ = try h.engine.cancel(a.id, now: h.now)
            #expect(d.state == .canceled)
            #expect(a.state == .canceled)
            #expect(h.state("q")?.delayed == 0)
            #expect(h.state("q")?.active == 0)
            #expect(h.engine.leaseHolderCount == 0)
            h.advance(to: t0 + 100)
            #expect(d.state == .canceled)
            #expect(h.list("q").isEmpty)
        }
    }

    @Test func retryingDeadAndCompletedJobsMakesThemPendingWithAttemptsReset() throws {
        try exclusive {
            let h = Harness()
            let dead = try h.add("q", "dead")
            let done = try h.add("q", "done")
            _ = h.lease("q", count: 2)
            try h.fail(dead)
            try h.ack(done, "r")
            #expect(dead.state == .dead)
            h.now += 50
            #expect(try h.engine.retry(dead.id, now: h.now) === dead)
            #expect(try h.engine.retry(done.id, now: h.now) === done)
            for r in [dead, done] {
                #expect(r.state == .pending)
                #expect(r.attempts == 0)
                #expect(r.result == nil)
                #expect(r.finishedAt == 0)
                #expect(r.forgetAt == 0)
                #expect(r.startedAt == 0)
                #expect(r.createdAt == t0 + 50)
            }
            #expect(h.state("q")?.dead == [])
            #expect(h.line("q") == ["dead", "done"])
            expectJobError("ERR job '\(str(dead.id)!)' is pending; only finished or delayed jobs can be retried") {
                _ = try h.engine.retry(dead.id, now: h.now)
            }
            // The old forget entry of the completed run no longer applies.
            h.advance(to: h.now + h.engine.settings.resultTTL + 1)
            #expect(h.engine.job(done.id) === done)
        }
    }

    @Test func retryingADelayedJobRunsItNow() throws {
        try exclusive {
            let h = Harness()
            let r = try h.add("q", "x", "DELAY", "10000")
            h.now += 5
            _ = try h.engine.retry(r.id, now: h.now)
            #expect(r.state == .pending)
            #expect(r.scheduledAt == t0 + 5)
            #expect(h.state("q")?.delayed == 0)
            h.advance(to: t0 + 10000)  // the stale due entry does nothing
            #expect(h.list("q").count == 1)
        }
    }

    @Test
    func aRetriedJobWithATTLExpiresAgainCountingFromTheRetry() throws {
        try exclusive {
            let h = Harness()
            let r = try h.add("q", "x", "TTL", "500")
            h.advance(to: t0 + 500)
            #expect(r.state == .expired)
            h.now = t0 + 1000
            _ = try h.engine.retry(r.id, now: h.now)
            #expect(r.expiresAt == t0 + 1500)
            h.advance(to: t0 + 1500)
            #expect(r.state == .expired)
            #expect(h.list("q").isEmpty)
        }
    }

    @Test func finishedRecordsAreForgottenAfterTheirResultTTL() throws {
        try exclusive {
            let h = Harness()
            h.engine.settings.resultTTL = 1000
            let a = try h.add("q", "a")
            let c = try h.add("q", "c", "RESULTTTL", "200")
            let d = try h.add("q", "d")
            _ = h.lease("q", count: 3)
            try h.ack(a)
            try h.ack(c)
            try h.fail(d)
            #expect(a.forgetAt == t0 + 1000)
            #expect(c.forgetAt == t0 + 200)
            h.advance(to: t0 + 199)
            #expect(h.engine.job(c.id) != nil)
            h.advance(to: t0 + 200)
            #expect(h.engine.job(c.id) == nil)
            #expect(h.engine.job(a.id) != nil)
            h.advance(to: t0 + 1000)
            #expect(h.engine.job(a.id) == nil)
            #expect(h.engine.records[a.handle] == nil)
            // Dead letters are kept until requeued or purged.
            h.advance(to: t0 + 100_000_000)
            #expect(h.engine.job(d.id) === d)
            #expect(h.engine.jobCount == 1)
        }
    }

    @Test func canMoveAllowsExactlyTheDrawnTransitions() {
        let allowed: Set<String> = [
            "pending>active", "pending>expired", "pending>canceled", "pending>delayed",
            "delayed>pending", "delayed>expired", "delayed>canceled",
            "active>completed", "active>delayed", "active>dead", "active>pending", "active>canceled",
            "completed>pending", "dead>pending", "expired>pending", "canceled>pending",
        ]
        for from in JobState.allCases {
            for to in JobState.allCases {
                #expect(from.canMove(to: to) == allowed.contains("\(from.rawValue)>\(to.rawValue)"), "\(from) -> \(to)")
            }
        }
        #expect(!JobState.completed.canMove(to: .active))
        #expect(!JobState.dead.canMove(to: .completed))
        #expect(JobState.allCases.filter(\.isFinished) == [.completed, .dead, .expired, .canceled])
    }

    // MARK: Priorities

    @Test func jobsAreLeasedByLevelThenFirstInFirstOut() throws {
        try exclusive {
            var rng = SplitMix(state: 7)
            let h = Harness()
            var expected: [(level: Int, n: Int)] = []
            for n in 0..<60 {
                let level = Int.random(in: 0...10, using: &rng)
                try h.add("q", "\(level)/\(n)", "PRIORITY", String(level))
                expected.append((level, n))
            }
            expected.sort { $0.level != $1.level ? $0.level < $1.level : $0.n < $1.n }
            #expect(h.line("q") == expected.map { "\($0.level)/\($0.n)" })
            let levels = h.list("q").map(\.level)
            #expect(levels == levels.sorted(by: >))  // least urgent at the head
            var leased: [String] = []
            while let r = h.leaseOne("q") { leased.append(str(r.payload)!) }
            #expect(leased == expected.map { "\($0.level)/\($0.n)" })
        }
    }

    @Test func leasingFromSeveralQueuesTakesTheMostUrgentTiesByTheOrderGiven() throws {
        try exclusive {
            let h = Harness()
            try h.add("a", "a5")
            try h.add("b", "b3", "PRIORITY", "3")
            try h.add("a", "a3", "PRIORITY", "3")
            try h.add("b", "b5")
            let order = h.lease("a", "b", count: 10).map { str($0.payload)! }
            // b3 and a3 tie at level 3: "a" is named first, so a3 first; then a5 before b5.
            #expect(order == ["a3", "b3", "a5", "b5"])
            try h.add("a", "x")
            try h.add("b", "y")
            #expect(h.lease("b", "a").first.map { str($0.payload)! } == "y")
        }
    }

    @Test func pausedQueuesLeaseNothing() throws {
        try exclusive {
            let h = Harness()
            try h.add("a", "a")
            try h.add("b", "b", "PRIORITY", "9")
            h.engine.setPaused(QueueKey(database: 0, name: b("a")), true)
            #expect(h.lease("a", "b").map { str($0.payload)! } == ["b"])
            #expect(h.lease("a").isEmpty)
            h.engine.setPaused(QueueKey(database: 0, name: b("a")), false)
            #expect(h.lease("a").count == 1)
        }
    }

    @Test func agingLetsALongWaitingLessUrgentJobGoFirst() throws {
        try exclusive {
            for aging: Int64 in [1000, 0] {
                let h = Harness()
                h.engine.settings.priorityAging = aging
                try h.add("q", "old9", "PRIORITY", "9")
                h.now = t0 + 5000  // 5 s at 1 s a level: counts as level 4
                try h.add("q", "new5", "PRIORITY", "5")
                let first = h.leaseOne("q").map { str($0.payload)! }
                #expect(first == (aging > 0 ? "old9" : "new5"), "aging \(aging)")
            }
            // Not waited long enough: 3 s makes level 9 count as 6, still behind 5.
            let h = Harness()
            h.engine.settings.priorityAging = 1000
            try h.add("q", "old9", "PRIORITY", "9")
            h.now = t0 + 3000
            try h.add("q", "new5", "PRIORITY", "5")
            #expect(h.leaseOne("q").map { str($0.payload)! } == "new5")
        }
    }

    // MARK: Backoff

    @Test func backoffDoublesFromTheBaseUpToTheCap() {
        var rng = SplitMix(state: 1)
        let delays = (1...6).map { RetryBackoff.delay(attempt: $0, base: 100, max: 1000, jitter: false, using: &rng) }
        #expect(delays == [100, 200, 400, 800, 1000, 1000])
        #expect(RetryBackoff.delay(attempt: 0, base: 100, max: 1000, jitter: false, using: &rng) == 0)
        #expect(RetryBackoff.delay(attempt: 3, base: 0, max: 1000, jitter: true, using: &rng) == 0)
        // No overflow for huge attempt numbers or bases.
        #expect(RetryBackoff.delay(attempt: 1_000_000, base: 100, max: 1000, jitter: false, using: &rng) == 1000)
        #expect(RetryBackoff.delay(attempt: 40, base: Int64.max / 4, max: 7, jitter: false, using: &rng) == 7)
    }

    @Test func jitteredBackoffStaysWithinZeroAndTheCeiling() {
        var rng = SplitMix(state: 99)
        let ceilings: [Int64] = [100, 200, 400, 800, 1000, 1000]
        for attempt in 1...6 {
            var seen = Set<Int64>()
            for _ in 0..<2000 {
                let d = RetryBackoff.delay(attempt: attempt, base: 100, max: 1000, jitter: true, using: &rng)
                #expect((0...ceilings[attempt - 1]).contains(d), "attempt \(attempt): \(d)")
                seen.insert(d)
            }
            #expect(seen.count > 50, "attempt \(attempt): draws should spread, saw \(seen.count) values")
        }
    }

    @Test func theEngineUsesItsGeneratorForJitter() throws {
        try exclusive {
            let h = Harness()
            h.engine.useRandom(SplitMix(state: 5))
            let r = try h.add("q", "x", "RETRIES", "50", "BACKOFF", "1000", "JITTER", "MAX", "4000")
            var delays = Set<Int64>()
            for attempt in 1...20 {
                _ = h.leaseOne("q")
                try h.fail(r)
                let delay = r.scheduledAt - h.now
                #expect((0...min(4000, 1000 << Int64(attempt - 1))).contains(delay))
                delays.insert(delay)
                h.advance(to: r.scheduledAt)
            }
            #expect(delays.count > 5)
        }
    }

    // MARK: Unique keys

    @Test func aUniqueKeyReturnsTheHolderWhilePendingOrActive() throws {
        try exclusive {
            let h = Harness()
            let first = try h.add("q", "one", "UNIQUE", "k")
            let again = try h.addReturningExisted("q", "two", ["UNIQUE", "k"])
            #expect(again.existed)
            #expect(again.record === first)
            #expect(h.list("q").count == 1)
            _ = h.leaseOne("q")
            #expect(try h.addReturningExisted("q", "three", ["UNIQUE", "k"]).record === first)
            let otherKey = try h.addReturningExisted("q", "four", ["UNIQUE", "k2"])
            #expect(!otherKey.existed)
            try h.ack(first)
            let after = try h.addReturningExisted("q", "five", ["UNIQUE", "k"])
            #expect(!after.existed)
            #expect(after.record !== first)
            #expect(h.engine.totals.added == 3)
        }
    }

    @Test func uniqueForKeepsTheKeyForAWhileAfterTheJobStarted() throws {
        try exclusive {
            let h = Harness()
            let first = try h.add("q", "one", "UNIQUE", "k", "FOR", "1000")
            h.now = t0 + 100
            _ = h.leaseOne("q")
            try h.ack(first)
            h.now = t0 + 1099
            #expect(try h.addReturningExisted("q", "x", ["UNIQUE", "k"]).record === first)
            h.now = t0 + 1100
            #expect(try !h.addReturningExisted("q", "y", ["UNIQUE", "k"]).existed)
        }
    }

    @Test func aForgottenHolderReleasesItsUniqueKey() throws {
        try exclusive {
            let h = Harness()
            h.engine.settings.resultTTL = 10
            let first = try h.add("q", "one", "UNIQUE", "k", "FOR", "100000")
            _ = h.leaseOne("q")
            try h.ack(first)
            h.advance(to: t0 + 10)
            #expect(h.engine.job(first.id) == nil)
            #expect(try !h.addReturningExisted("q", "y", ["UNIQUE", "k"]).existed)
        }
    }

    // MARK: Errors

    @Test func workerCommandsOnTheWrongJobAreRefusedWithTheirPrefix() throws {
        try exclusive {
            let h = Harness()
            let r = try h.add("q", "x")
            let id = str(r.id)!
            expectJobError("ERR job '\(id)' is pending, not active") { try h.ack(r) }
            _ = h.leaseOne("q", holder: 1)
            expectJobError("NOLEASE job '\(id)' is leased by another connection") { try h.ack(r, holder: 2) }
            expectJobError("NOLEASE") { try h.fail(r, holder: 2) }
            expectJobError("NOLEASE") { _ = try h.engine.touch(r.id, millis: 10, holder: 2, now: h.now) }
            expectJobError("ERR no such job 'ghost'") { try h.engine.ack(b("ghost"), result: [], holder: 1, now: h.now) }
            expectJobError("ERR no such job 'ghost'") {
                try h.engine.fail(b("ghost"), error: [], retryIn: nil, dead: false, holder: 1, now: h.now)
            }
            expectJobError("ERR no such job 'ghost'") { _ = try h.engine.retry(b("ghost"), now: h.now) }
            #expect(r.state == .active)
            try h.ack(r, holder: 1)
            expectJobError("ERR job '\(id)' is completed, not active") { try h.ack(r) }
        }
    }

    @Test func anIDInUseIsRefusedUntilItsJobFinished() throws {
        try exclusive {
            let h = Harness()
            let r = try h.add("q", "x", "ID", "job-1")
            #expect(r.id == b("job-1"))
            expectJobError("ERR job id 'job-1' already exists and is pending") { try h.add("q", "y", "ID", "job-1") }
            _ = try h.engine.cancel(r.id, now: h.now)
            let again = try h.add("q", "z", "ID", "job-1")
            #expect(again !== r)
            #expect(h.engine.job(b("job-1")) === again)
            #expect(h.engine.records[r.handle] == nil)
        }
    }

    // MARK: Plain list commands

    @Test func dropTakenJobsForgetsAPendingJobWhoseElementWasPoppedByAPlainRPOP() throws {
        try exclusive {
            let h = Harness()
            let first = try h.add("q", "first")
            let second = try h.add("q", "second")
            let (_, list) = try #require(h.engine.list(QueueKey(database: 0, name: b("q"))))
            #expect(list.popBack().map { str($0)! } == "first")
            #expect(DroppedJobTags.tags == [first.handle])
            h.engine.dropTakenJobs()
            #expect(DroppedJobTags.tags.isEmpty)
            #expect(h.engine.job(first.id) == nil)
            #expect(h.engine.job(second.id) === second)
            #expect(second.state == .pending)
            #expect(h.leaseOne("q") === second)
        }
    }

    @Test func plainPushedElementsGetARecordWhenLeased() throws {
        try exclusive {
            let h = Harness()
            let key = QueueKey(database: 0, name: b("q"))
            let list = ListValue()
            list.pushFront(b("plain"))
            _ = h.engine.keyspace[0].add(b("q"), .list(list))
            let r = try #require(h.leaseOne("q"))
            #expect(r.payload == b("plain"))
            #expect(r.state == .active)
            #expect(r.priority == PriorityLevels.defaultLevel)
            #expect(h.engine.list(key) == nil)
            try h.ack(r)
            #expect(r.state == .completed)
        }
    }

    // MARK: Log replay and snapshots

    /// A bit of everything, on two queues.
    private func mixedScenario(_ h: Harness) throws {
        h.engine.settings.resultTTL = 5000
        h.engine.useRandom(SplitMix(state: 3))
        let q2 = QueueKey(database: 0, name: b("q2"))
        h.engine.setDefaultPriority(q2, 7)
        // Flow-control settings: generous on q2 (they change nothing below), and on queues without jobs.
        h.engine.setRate(q2, RateLimit(amount: 1000, periodMillis: 1000), now: h.now)
        h.engine.setConcurrency(q2, 50)
        let q3 = QueueKey(database: 0, name: b("q3")), q4 = QueueKey(database: 0, name: b("q4"))
        h.engine.setRate(q3, RateLimit(amount: 30, periodMillis: 60_000), now: h.now)
        h.engine.setConcurrency(q3, 4)
        h.engine.setRate(q4, RateLimit(amount: 5, periodMillis: 3_600_000), now: h.now)
        h.engine.setRate(q4, nil, now: h.now)
        let a = try h.add("q1", "a")
        let bb = try h.add("q1", "b", "PRIORITY", "2")
        _ = try h.add("q1", "c", "DELAY", "1000", "RETRIES", "2")
        let d = try h.add("q1", "d", "RETRIES", "2", "BACKOFF", "100", "JITTER")
        let e = try h.add("q1", "e", "TTL", "500")
        _ = try h.add("q1", "f", "UNIQUE", "u", "RESULTTTL", "100")
        let g = try h.add("q1", "g", "ID", "gee")
        _ = try h.add("q2", "h")
        _ = try h.add("q2", "i", "PRIORITY", "0", "TIMEOUT", "300")
        h.now += 10
        let leased = h.lease("q1", "q2", count: 3, holder: 1)
        #expect(leased.map { str($0.payload)! } == ["i", "b", "a"])
        try h.ack(bb, "rb")
        try h.fail(a, "bad a")  // no retries: dead
        h.now += 10
        #expect(h.leaseOne("q1", holder: 1) === d)
        try h.fail(d, "bad d")  // delayed, jittered
        _ = try h.engine.cancel(g.id, now: h.now)
        h.advance(to: t0 + 400)  // d promoted (backoff <= 100), i's lease ran out (dead)
        #expect(d.state == .pending)
        h.advance(to: t0 + 500)  // e expires
        #expect(e.state == .expired)
        h.now += 1
        let twoLeases = h.lease("q1", count: 2, holder: 2)
        #expect(twoLeases.count == 2)
        h.engine.releaseLeases(of: 2, now: h.now)
        h.advance(to: t0 + 1000)  // c promoted
        h.now += 1
        _ = h.lease("q1", holder: 3, millis: 50)
        h.engine.setPaused(q2, true)
        h.advance(to: t0 + 1100)
        _ = try h.engine.retry(a.id, now: h.now)
        _ = try h.add("q2", "j", "PRIORITY", "10")
        h.now += 1
        let f = try #require(h.lease("q1", holder: 4).first)
        try h.fail(f, "f fails", retryIn: 0, holder: 4)
        h.advance(to: t0 + 5100)  // b forgotten (result TTL 5000 from t0+10)
        #expect(h.engine.job(bb.id) == nil)
        _ = h.lease("q1", count: 1, holder: 5)  // left active
    }

    private func sameRecords(_ x: JobEngine, _ y: JobEngine, leases: Bool, _ context: String) {
        #expect(Set(x.records.keys) == Set(y.records.keys), "handles \(context)")
        for (handle, r) in x.records {
            guard let s = y.records[handle] else { continue }
            let what = "job \(handle) (\(str(r.id)!)) \(context)"
            #expect(r.state == s.state, "state of \(what)")
            #expect(r.attempts == s.attempts, "attempts of \(what)")
            #expect(r.id == s.id, "id of \(what)")
            #expect(r.queue == s.queue, "queue of \(what)")
            #expect(r.priority == s.priority, "priority of \(what)")
            #expect(r.options == s.options, "options of \(what)")
            #expect(r.payload == s.payload, "payload of \(what)")
            #expect(r.result == s.result, "result of \(what)")
            #expect(r.errors == s.errors, "errors of \(what)")
            #expect(r.createdAt == s.createdAt, "createdAt of \(what)")
            #expect(r.scheduledAt == s.scheduledAt, "scheduledAt of \(what)")
            #expect(r.startedAt == s.startedAt, "startedAt of \(what)")
            #expect(r.finishedAt == s.finishedAt, "finishedAt of \(what)")
            #expect(r.forgetAt == s.forgetAt, "forgetAt of \(what)")
            if leases { #expect(r.leaseDeadline == s.leaseDeadline, "leaseDeadline of \(what)") }
            #expect(x.job(r.id) === r)
            #expect(y.job(s.id) === s)
        }
        for (key, q) in x.queues {
            guard let p = y.queues[key] else {
                // A queue the copy never needed is fine only when there is nothing to say about it.
                #expect(q.defaultPriority == PriorityLevels.defaultLevel && !q.paused && q.active == 0 && q.delayed == 0 && q.dead.isEmpty
                        && !q.isLimited, "queue \(str(key.name)!) missing \(context)")
                continue
            }
            let name = "queue \(str(key.name)!) \(context)"
            #expect(q.delayed == p.delayed, "delayed of \(name)")
            #expect(q.active == p.active, "active of \(name)")
            #expect(q.dead == p.dead, "dead of \(name)")
            #expect(q.paused == p.paused, "paused of \(name)")
            #expect(q.defaultPriority == p.defaultPriority, "defaultPriority of \(name)")
            #expect(q.rateLimit == p.rateLimit, "rate limit of \(name)")
            #expect(q.concurrencyLimit == p.concurrencyLimit, "concurrency limit of \(name)")
            #expect(q.isLimited == p.isLimited, "isLimited of \(name)")
        }
    }

    private func sameLists(_ x: Harness, _ y: Harness, _ queues: [String], _ context: String) {
        for q in queues {
            let l = x.list(q), m = y.list(q)
            #expect(l.map(\.payload) == m.map(\.payload), "payloads of \(q) \(context)")
            #expect(l.map(\.tag) == m.map(\.tag), "tags of \(q) \(context)")
            #expect(l.map(\.level) == m.map(\.level), "levels of \(q) \(context)")
        }
    }

    @Test func replayingTheLogRebuildsTheSameState() throws {
        try exclusive {
            let h = Harness(recording: true)
            try mixedScenario(h)
            #expect(h.log.count > 20)
            #expect(h.log.allSatisfy { $0.words.first == b("JOBD") && $0.database == 0 })
            #expect(!h.list("q1").isEmpty && !h.list("q2").isEmpty)

            let copy = Harness()
            copy.engine.settings.resultTTL = 5000
            for entry in h.log {
                copy.now = entry.now
                try copy.engine.replay(Array(entry.words.dropFirst()), database: entry.database, now: entry.now)
            }
            sameRecords(h.engine, copy.engine, leases: true, "after replay")
            sameLists(h, copy, ["q1", "q2"], "after replay")
            #expect(Set(copy.engine.records.values.map(\.state)) == Set(h.engine.records.values.map(\.state)))
            #expect(h.engine.count(in: .dead) >= 1 && h.engine.count(in: .active) == 1 && h.engine.count(in: .expired) >= 1)

            // Both go on the same way: the same job is leased next.
            let next = h.lease("q1", holder: 8).first?.handle
            let copied = copy.lease("q1", holder: 8).first?.handle
            #expect(next == copied)
        }
    }

    @Test func snapshotRecordsWithCopiedListsRebuildTheSameRecords() throws {
        try exclusive {
            let h = Harness()
            try mixedScenario(h)
            let copy = Harness()
            copy.engine.settings.resultTTL = 5000
            let records = h.engine.snapshotRecords()
            #expect(records.allSatisfy { $0.words.first == b("JOBD") })
            for (database, words) in records {
                try copy.engine.replay(Array(words.dropFirst()), database: database, now: h.now)
            }
            for name in ["q1", "q2"] {
                guard let (_, list) = h.engine.list(QueueKey(database: 0, name: b(name))) else { continue }
                let restored = ListValue()
                list.forEachJob { data, tag, level in restored.appendRestored(data, level: level, tag: tag) }
                _ = copy.engine.keyspace[0].add(b(name), .list(restored))
            }
            sameRecords(h.engine, copy.engine, leases: false, "after snapshot")
            sameLists(h, copy, ["q1", "q2"], "after snapshot")
            for (key, list) in [("q1", h.list("q1")), ("q2", h.list("q2"))] {
                let restored = try #require(copy.engine.list(QueueKey(database: 0, name: b(key)))).1
                for level in PriorityLevels.range {
                    #expect(restored.count(at: level) == list.filter { $0.level == level }.count, "\(key) level \(level)")
                }
            }
            // A snapshot of the copy says the same again (dead letters of different queues in any order).
            func lines(_ rs: [(database: Int, words: [[UInt8]])]) -> [String] {
                rs.map { $0.words.map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ") }.sorted()
            }
            #expect(lines(copy.engine.snapshotRecords()) == lines(records))
        }
    }

    // MARK: Request parsing

    @Test func everyJobAddOptionParses() throws {
        let words = ["priority", "3", "DELAY", "500", "RETRIES", "4", "BACKOFF", "100", "MAX", "2000", "JITTER",
                     "TIMEOUT", "700", "TTL", "900", "UNIQUE", "k", "FOR", "50", "RESULTTTL", "60", "ID", "my-id"].map(b)
        let r = try JobRequestParser.parse(queue: b("q"), payload: b("p"), words: words[...], now: t0)
        #expect(r.queue == b("q"))
        #expect(r.payload == b("p"))
        #expect(r.options.priority == 3)
        #expect(r.runAt == t0 + 500)
        #expect(r.options.maxRetries == 4)
        #expect(r.options.backoff == 100)
        #expect(r.options.backoffMax == 2000)
        #expect(r.options.jitter)
        #expect(r.options.timeout == 700)
        #expect(r.options.ttl == 900)
        #expect(r.options.unique == b("k"))
        #expect(r.options.uniqueFor == 50)
        #expect(r.options.resultTTL == 60)
        #expect(r.id == b("my-id"))

        let at = try JobRequestParser.parse(queue: b("q"), payload: [], words: ["AT", "123", "BACKOFF", "5", "JITTER", "MAX", "9"].map(b)[...], now: t0)
        #expect(at.runAt == 123)
        #expect(at.options.backoff == 5 && at.options.backoffMax == 9 && at.options.jitter)

        let none = try JobRequestParser.parse(queue: b("q"), payload: [], words: [], now: t0)
        #expect(none.options == JobOptions())
        #expect(none.runAt == nil && none.id == nil)

        // words() gives back options that parse to the same request (DELAY as AT).
        let back = try JobRequestParser.parse(queue: b("q"), payload: b("p"), words: JobRequestParser.words(r)[...], now: 0)
        #expect(back.options == r.options)
        #expect(back.runAt == r.runAt)
        #expect(back.id == r.id)
    }

    @Test(arguments: [
        (["PRIORITY", "11"], "ERR PRIORITY must be"),
        (["PRIORITY", "-1"], "ERR PRIORITY must be"),
        (["DELAY", "-1"], "ERR DELAY must be"),
        (["DELAY", "soon"], "ERR DELAY must be"),
        (["AT", "-5"], "ERR AT must be"),
        (["RETRIES", "x"], "ERR RETRIES must be"),
        (["RETRIES", "1000001"], "ERR RETRIES must be"),
        (["BACKOFF", "-3"], "ERR BACKOFF must be"),
        (["BACKOFF", "10", "MAX", "y"], "ERR MAX must be"),
        (["TIMEOUT", "0"], "ERR TIMEOUT must be"),
        (["TTL", "0"], "ERR TTL must be"),
        (["RESULTTTL", "-1"], "ERR RESULTTTL must be"),
        (["UNIQUE", "k", "FOR", "z"], "ERR FOR must be"),
        (["WHATEVER", "1"], "ERR unknown option 'WHATEVER'"),
        (["MAX", "100"], "ERR MAX must follow BACKOFF"),
        (["JITTER"], "ERR JITTER must follow BACKOFF"),
        (["FOR", "10"], "ERR FOR must follow UNIQUE"),
        (["DELAY", "10", "AT", "20"], "ERR DELAY and AT cannot both be given"),
        (["AT", "20", "DELAY", "10"], "ERR DELAY and AT cannot both be given"),
        (["PRIORITY"], "ERR PRIORITY needs a value"),
        (["DELAY"], "ERR DELAY needs a value"),
        (["RETRIES", "1", "TTL"], "ERR TTL needs a value"),
        (["BACKOFF", "10", "MAX"], "ERR MAX needs a value"),
        (["UNIQUE"], "ERR UNIQUE needs a value"),
        (["UNIQUE", ""], "ERR UNIQUE key must not be empty"),
        (["ID"], "ERR ID needs a value"),
        (["ID", ""], "ERR ID must be 1 to 256 bytes"),
    ] as [([String], String)])
    func badJobAddOptionsAreRefusedNamingTheOption(words: [String], prefix: String) {
        expectJobError(prefix, "for \(words)") {
            _ = try JobRequestParser.parse(queue: b("q"), payload: [], words: words.map(b)[...], now: t0)
        }
    }

    @Test func cronAddRefusesIDAndSchedulingOptions() {
        for words in [["ID", "x"], ["DELAY", "5"], ["AT", "5"]] {
            expectJobError("ERR unknown option '\(words[0])'") {
                _ = try JobRequestParser.parse(queue: b("q"), payload: [], words: words.map(b)[...], now: t0,
                                               allowID: false, allowSchedule: false)
            }
        }
    }
}
