import Testing
import Glibc
import JobdQueue
import JobdSystem
import Synchronization

// The rings under real concurrency, with the waiting side asleep on a Parker
// (so a lost wakeup shows as a hang, which the watchdog turns into a failure).
// Also run under ThreadSanitizer by scripts/test.

/// Threads that must all finish within a time limit.
private final class Crew: @unchecked Sendable {
    private let finished = Atomic<Int>(0)
    private let stopFlag = Atomic<Bool>(false)
    private var threads: [JobdSystem.Thread] = []  // touched by the test's thread only

    /// Set by the watchdog: loops that wait must give up.
    var stopRequested: Bool { stopFlag.load(ordering: .acquiring) }

    func start(_ name: String, _ body: @escaping @Sendable () -> Void) throws {
        threads.append(try JobdSystem.Thread(name: name) { [self] in
            body()
            self.finished.add(1, ordering: .releasing)
        })
    }

    /// Joins every thread. If they are not all done after `seconds`, records a
    /// failure, sets the stop flag, calls `wake` so sleepers see it, and joins
    /// only if they then finish (a thread parked for good is left behind).
    func finish(within seconds: Int64, wake: () -> Void,
                sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        let deadline = Clock.monotonicNanos() + seconds * 1_000_000_000
        var inTime = true
        while finished.load(ordering: .acquiring) < threads.count {
            if inTime && Clock.monotonicNanos() > deadline {
                Issue.record("watchdog: threads still running after \(seconds) s (lost wakeup?)",
                             sourceLocation: sourceLocation)
                stopFlag.store(true, ordering: .releasing)
                wake()
                inTime = false
            } else if !inTime && Clock.monotonicNanos() > deadline + 5_000_000_000 {
                return false
            }
            usleep(1000)
        }
        for thread in threads { thread.join() }
        return inTime
    }
}

/// What one consumer saw; written by that consumer only, read after its join.
/// (`seen` is a pointer, not an array property: no exclusivity check or
/// copy-on-write test per item, which matters in the ThreadSanitizer build.)
private final class ConsumerLog: @unchecked Sendable {
    var received = 0
    var firstError: String?
    /// How many times each value index arrived (capped at 2).
    let seen: UnsafeMutablePointer<UInt8>
    init(size: Int) {
        seen = .allocate(capacity: Swift.max(size, 1))
        seen.initialize(repeating: 0, count: Swift.max(size, 1))
    }
    deinit { seen.deallocate() }
}

private final class Counter: Sendable {
    let value: Atomic<Int>
    init(_ initial: Int) { value = Atomic(initial) }
}

@Suite(.serialized) struct RingStressTests {
    @Test func spscOneProducerOneConsumerEveryItemOnceInOrder() throws {
        let items = 2_000_000
        let ring = SPSCRing(capacity: 64)
        let consumerParker = Parker(), producerParker = Parker()
        let crew = Crew(), log = ConsumerLog(size: 0)
        try crew.start("spsc-consumer") {
            var expected: UInt32 = 0, received = 0
            defer { log.received = received }
            while Int(expected) < items {
                guard let value = ring.pop() else {
                    if crew.stopRequested { return }
                    consumerParker.park()  // the producer unparks after each push
                    continue
                }
                if value != expected && log.firstError == nil {
                    log.firstError = "expected \(expected), got \(value)"
                }
                expected = value &+ 1
                received += 1
                producerParker.unpark()  // room for a producer that found the ring full
            }
        }
        try crew.start("spsc-producer") {
            for value in 0..<UInt32(items) {
                while !ring.push(value) {
                    if crew.stopRequested { return }
                    producerParker.park()
                }
                consumerParker.unpark()
            }
        }
        let done = crew.finish(within: 60) { consumerParker.unpark(); producerParker.unpark() }
        try #require(done)
        #expect(log.firstError == nil)
        #expect(log.received == items)
        #expect(ring.isEmpty)
    }

    @Test(arguments: [(2, 2), (4, 4)])
    func mpmcEveryItemOnceInProducerOrder(producers: Int, consumers: Int) throws {
        let perProducer = 1_000_000
        let ring = MPMCRing(capacity: 64)
        let parkers = (0..<consumers).map { _ in Parker() }
        let producing = Counter(producers)
        let crew = Crew()
        let logs = (0..<consumers).map { _ in ConsumerLog(size: producers * perProducer) }
        // A value is (producer << 24) | sequence.
        for consumer in 0..<consumers {
            let log = logs[consumer], parker = parkers[consumer]
            try crew.start("mpmc-consumer\(consumer)") {
                var last = [Int](repeating: -1, count: producers), received = 0, yielded = false
                let seen = log.seen
                defer { log.received = received }
                while true {
                    let value: UInt32
                    if let popped = ring.pop() {
                        value = popped
                    } else if producing.value.load(ordering: .acquiring) == 0 {
                        // All pushes happened before the count reached 0 (release
                        // there, acquire here): an empty ring after that is final.
                        guard let popped = ring.pop() else { return }
                        value = popped
                    } else {
                        if crew.stopRequested { return }
                        // One yield first: with more threads than cores it lets a
                        // producer run, which is cheaper than a futex sleep and wake
                        // per item. Then sleep; producers unpark after each push.
                        if !yielded {
                            yielded = true
                            sched_yield()
                        } else {
                            yielded = false
                            parker.park()
                        }
                        continue
                    }
                    yielded = false
                    let producer = Int(value >> 24), sequence = Int(value & 0xFF_FFFF)
                    guard producer < producers && sequence < perProducer else {
                        log.firstError = log.firstError ?? "bad value \(value)"
                        continue
                    }
                    if sequence <= last[producer] {
                        log.firstError = log.firstError ?? "producer \(producer): \(sequence) after \(last[producer])"
                    }
                    last[producer] = sequence
                    let index = producer * perProducer + sequence
                    seen[index] = min(seen[index] + 1, 2)
                    received += 1
                }
            }
        }
        for producer in 0..<producers {
            try crew.start("mpmc-producer\(producer)") {
                for sequence in 0..<perProducer {
                    let value = UInt32(producer) << 24 | UInt32(sequence)
                    while !ring.push(value) {
                        if crew.stopRequested { return }
                        sched_yield()
                    }
                    // Wake the consumers in turn; each push wakes at least one.
                    parkers[(sequence &+ producer) % consumers].unpark()
                }
                if producing.value.subtract(1, ordering: .releasing).newValue == 0 {
                    for parker in parkers { parker.unpark() }
                }
            }
        }
        let done = crew.finish(within: 60) { for parker in parkers { parker.unpark() } }
        try #require(done)
        for (consumer, log) in logs.enumerated() {
            #expect(log.firstError == nil, "consumer \(consumer)")
        }
        #expect(logs.reduce(0) { $0 + $1.received } == producers * perProducer)
        var missing = 0, repeated = 0
        let seen = logs.map(\.seen)
        for index in 0..<(producers * perProducer) {
            var times = 0
            for counts in seen { times += Int(counts[index]) }
            if times == 0 { missing += 1 } else if times > 1 { repeated += 1 }
        }
        #expect(missing == 0)
        #expect(repeated == 0)
        #expect(ring.isEmpty)
    }
}
