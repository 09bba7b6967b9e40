import Testing
import Glibc
import JobdSystem
import Synchronization

// Parker: permits, timeouts, and a ping-pong whose plain shared counter is
// ordered by park/unpark alone (ThreadSanitizer checks that in scripts/test).

private func millis(since start: Int64) -> Int64 { (Clock.monotonicNanos() - start) / 1_000_000 }

/// A value handed between threads by park/unpark only (no lock, no atomic).
private final class Baton: @unchecked Sendable {
    var count = 0
    var firstError: String?
}

/// Starts `bodies` on threads and joins them; if they are not all done within
/// `seconds`, records a failure, sets `flag.stop`, calls `wake` and joins the
/// threads only if they then finish (a thread parked for good is left behind).
private func runThreads(_ bodies: [@Sendable () -> Void], within seconds: Int64, flag: Flag,
                        wake: () -> Void, sourceLocation: SourceLocation = #_sourceLocation) throws -> Bool {
    final class Finished: Sendable { let count = Atomic<Int>(0) }
    let finished = Finished()
    let threads = try bodies.enumerated().map { index, body in
        try JobdSystem.Thread(name: "parker-test\(index)") {
            body()
            finished.count.add(1, ordering: .releasing)
        }
    }
    let deadline = Clock.monotonicNanos() + seconds * 1_000_000_000
    while finished.count.load(ordering: .acquiring) < threads.count {
        if Clock.monotonicNanos() > deadline {
            Issue.record("watchdog: threads still running after \(seconds) s (lost wakeup?)",
                         sourceLocation: sourceLocation)
            flag.stop.store(true, ordering: .releasing)
            wake()
            usleep(500_000)
            if finished.count.load(ordering: .acquiring) == threads.count { threads.forEach { $0.join() } }
            return false
        }
        usleep(1000)
    }
    threads.forEach { $0.join() }
    return true
}

private final class Flag: Sendable { let stop = Atomic<Bool>(false) }

@Suite(.serialized) struct ParkerTests {
    @Test func unparkBeforeParkReturnsAtOnce() {
        let parker = Parker()
        parker.unpark()
        parker.unpark()  // permits do not add up: this one is the same permit
        let start = Clock.monotonicNanos()
        parker.park(spins: 0, timeoutNanos: 5_000_000_000)
        #expect(millis(since: start) < 1000)
        #expect(!parker.isParked)
        // No permit left: a timed park now waits out its timeout.
        let second = Clock.monotonicNanos()
        parker.park(spins: 0, timeoutNanos: 20_000_000)
        #expect(millis(since: second) >= 19)
    }

    @Test(arguments: [0, 100])
    func parkWithTimeoutReturns(spins: Int) {
        let parker = Parker()
        let start = Clock.monotonicNanos()
        parker.park(spins: spins, timeoutNanos: 30_000_000)
        let elapsed = millis(since: start)
        #expect(elapsed >= 29 && elapsed < 5000)
        #expect(!parker.isParked)
        // A timed-out park leaves no state behind: an unpark still counts.
        parker.unpark()
        let again = Clock.monotonicNanos()
        parker.park(spins: spins, timeoutNanos: 5_000_000_000)
        #expect(millis(since: again) < 1000)
    }

    @Test func unparkWakesAParkedThread() throws {
        let parker = Parker(), flag = Flag(), observed = Baton()
        let finished = try runThreads([
            { parker.park(spins: 0) },
            {
                // Wait until the owner is asleep on the futex, then wake it.
                let deadline = Clock.monotonicNanos() + 10_000_000_000
                while !parker.isParked && Clock.monotonicNanos() < deadline { usleep(100) }
                if parker.isParked { observed.count = 1 }
                parker.unpark()
            },
        ], within: 60, flag: flag) { parker.unpark() }
        #expect(finished)
        #expect(observed.count == 1, "the owner never showed as parked")
    }

    @Test(arguments: [0, 100])
    func pingPong100000Times(spins: Int) throws {
        let rounds = 100_000
        let ping = Parker(), pong = Parker(), baton = Baton(), flag = Flag()
        let finished = try runThreads([
            {
                for round in 0..<rounds {
                    if baton.count != 2 * round && baton.firstError == nil {
                        baton.firstError = "ping saw \(baton.count) in round \(round)"
                    }
                    baton.count += 1
                    pong.unpark()
                    ping.park(spins: spins)
                    if flag.stop.load(ordering: .acquiring) { return }
                }
            },
            {
                for round in 0..<rounds {
                    pong.park(spins: spins)
                    if flag.stop.load(ordering: .acquiring) { return }
                    if baton.count != 2 * round + 1 && baton.firstError == nil {
                        baton.firstError = "pong saw \(baton.count) in round \(round)"
                    }
                    baton.count += 1
                    ping.unpark()
                }
            },
        ], within: 60, flag: flag) { ping.unpark(); pong.unpark() }
        try #require(finished)
        #expect(baton.firstError == nil)
        #expect(baton.count == 2 * rounds)
    }
}
