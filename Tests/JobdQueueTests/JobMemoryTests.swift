import Testing
@testable import JobdQueue
import JobdStore

/// maxmemory and job records: only finished records kept for their result
/// are evicted, oldest finish first, each logged as its TTL would be.
@Suite(.serialized) struct JobMemoryTests {
    @Test func keptRecordsAreEvictedOldestFinishFirstAndNothingUnfinishedOrDead() throws {
        try exclusive {
            let h = Harness(recording: true)
            let dead = try h.add("q", "doomed")
            try h.fail(try #require(h.leaseOne("q")), dead: true)
            let delayed = try h.add("q", "later", "DELAY", "60000")
            let pending = try h.add("q", "waiting")
            try h.add("done", "first")
            try h.add("done", "second")
            let leased = h.lease("done", count: 2)
            try h.ack(leased[0], "result one")
            h.now += 1
            try h.ack(leased[1], "result two")
            let size = try #require(h.engine.evictKeptRecord())
            #expect(size >= "result one".utf8.count)
            #expect(h.engine.job(leased[0].id) == nil)
            #expect(h.engine.job(leased[1].id) != nil)
            #expect(h.log.last?.words.map { String(decoding: $0, as: UTF8.self) } == ["JOBD", "FORGET", String(leased[0].handle)])
            #expect(h.engine.evictKeptRecord() != nil)
            #expect(h.engine.evictKeptRecord() == nil, "only finished records kept for their results may go")
            #expect(h.engine.evictedRecords == 2)
            for record in [dead, delayed, pending] { #expect(h.engine.job(record.id) != nil) }
        }
    }

    @Test func aRecordForgottenByItsTTLIsNotEvictedTwice() throws {
        try exclusive {
            let h = Harness()
            try h.add("q", "a", "RESULTTTL", "10")
            try h.ack(try #require(h.leaseOne("q")), "r")
            h.advance(to: h.now + 11)
            #expect(h.engine.jobCount == 0)
            #expect(h.engine.evictKeptRecord() == nil)
            #expect(h.engine.evictedRecords == 0)
        }
    }

    @Test func recordMemoryCountsPayloadsResultsAndErrors() throws {
        try exclusive {
            let h = Harness()
            let empty = h.engine.recordMemoryEstimate()
            try h.add("q", String(repeating: "p", count: 5000), "DELAY", "1000")
            let withPayload = h.engine.recordMemoryEstimate()
            #expect(withPayload - empty >= 5000)
        }
    }
}
