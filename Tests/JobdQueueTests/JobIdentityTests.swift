import Testing
@testable import JobdQueue
import JobdStore

/// Job ids on the lease path: written and parsed without String, and only
/// the canonical decimal form of a handle names its job.
@Suite(.serialized) struct JobIdentityTests {
    private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test(arguments: [UInt64(0), 7, 9, 10, 99, 100, 12_345, 1 << 32, UInt64(Int64.max)])
    func aDecimalIdIsTheHandleWrittenInDecimal(handle: UInt64) {
        #expect(JobRecord.decimalID(handle) == bytes(String(handle)))
    }

    @Test func onlyTheCanonicalDecimalFormNamesAHandle() {
        func parsed(_ s: String) -> UInt64? { bytes(s).withUnsafeBytes { JobEngine.handle(decimal: $0) } }
        #expect(parsed("0") == 0)
        #expect(parsed("7") == 7)
        #expect(parsed("9223372036854775807") == UInt64(Int64.max))
        for text in ["", "07", "00", "+7", "-7", "7a", " 7", "7 ", "1.0", "99999999999999999999"] {
            #expect(parsed(text) == nil, "'\(text)' is not a canonical handle")
        }
    }

    @Test func aJobIsAckedByItsIdBytesAndAnIdWithALeadingZeroIsNoSuchJob() throws {
        try exclusive {
            let h = Harness()
            try h.add("q", "a")
            try h.add("q", "b")
            let leased = h.lease("q", count: 2)
            #expect(leased.count == 2)
            let first = leased[0]
            expectNoSuchJob(h, "0" + String(decoding: first.id, as: UTF8.self))
            try first.id.withUnsafeBytes { try h.engine.ack(bytes: $0, result: [], holder: 1, now: h.now) }
            #expect(h.engine.totals.completed == 1)
            // Acking twice: the record is kept (it has an id a client knows) and is no longer active.
            do {
                try first.id.withUnsafeBytes { try h.engine.ack(bytes: $0, result: [], holder: 1, now: h.now) }
                Issue.record("a second ack must fail")
            } catch let error as JobError {
                #expect(error.text.contains("not active"))
            }
            // Another connection's ack of the second job: NOLEASE, and the job stays active.
            do {
                try leased[1].id.withUnsafeBytes { try h.engine.ack(bytes: $0, result: [], holder: 2, now: h.now) }
                Issue.record("an ack from another holder must fail")
            } catch let error as JobError {
                #expect(error.text.hasPrefix("NOLEASE"))
            }
            #expect(leased[1].state == .active)
        }
    }

    private func expectNoSuchJob(_ h: Harness, _ id: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            try bytes(id).withUnsafeBytes { try h.engine.ack(bytes: $0, result: [], holder: 1, now: h.now) }
            Issue.record("'\(id)' must not name a job", sourceLocation: sourceLocation)
        } catch let error as JobError {
            #expect(error.text.hasPrefix("ERR no such job"), sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func aBatchFromOneQueueTakesTheMostUrgentLevelsFirstAndEmptiesTheList() throws {
        try exclusive {
            let h = Harness()
            try h.add("q", "low", "PRIORITY", "9")
            try h.add("q", "mid1")
            try h.add("q", "urgent", "PRIORITY", "0")
            try h.add("q", "mid2")
            let leased = h.lease("q", count: 10)
            #expect(leased.map { String(decoding: $0.payload ?? [], as: UTF8.self) } == ["urgent", "mid1", "mid2", "low"])
            #expect(h.list("q").isEmpty)
            #expect(h.state("q")?.active == 4)
            #expect(h.lease("q", count: 10).isEmpty)
        }
    }
}
