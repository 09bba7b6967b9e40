import Glibc
import JobdSystem
import Synchronization

/// Throughput of the rings, measured inside this module so the push/pop loops
/// are compiled (and specialized) together with the rings, as the engine's
/// and workers' loops are. Waiting sides spin with pause hints, never park
/// (see `pause`). One op is one item pushed and popped, one at a time (no
/// batches); results are ops per second.
public enum RingBenchmark {
    /// The calling thread pushes `items` values into an `SPSCRing` of
    /// `ringCapacity`; one consumer thread pops them.
    public static func spsc(items: Int, ringCapacity: Int) -> Double {
        precondition(items > 0 && items < Int(UInt32.max), "RingBenchmark: items out of range")
        let ring = SPSCRing(capacity: ringCapacity)
        let checksum = Checksum()
        let start = Clock.monotonicNanos()
        let consumer = spawn("ring-bench-pop") {
            var received = 0, sum = 0, idle = 0
            while received < items {
                if let value = ring.pop() {
                    sum &+= Int(value)
                    received += 1
                    idle = 0
                } else {
                    pause(&idle)
                }
            }
            checksum.add(sum)
        }
        var value: UInt32 = 0, idle = 0
        for _ in 0..<items {
            while !ring.push(value) { pause(&idle) }
            idle = 0
            value &+= 1
        }
        consumer.join()
        let elapsed = Clock.monotonicNanos() - start
        // The sum keeps the consumer's loads alive and checks that nothing was lost.
        precondition(checksum.value == items * (items - 1) / 2, "RingBenchmark: SPSC lost items")
        return rate(items, elapsed)
    }

    /// `producers` threads push `items` values in all (split evenly) into an
    /// `MPMCRing` of `ringCapacity`; `consumers` threads pop them.
    public static func mpmc(producers: Int, consumers: Int, items: Int, ringCapacity: Int) -> Double {
        precondition(producers > 0 && consumers > 0, "RingBenchmark: no threads")
        precondition(items > 0 && items < Int(UInt32.max), "RingBenchmark: items out of range")
        let ring = MPMCRing(capacity: ringCapacity)
        let checksum = Checksum()
        // Pushed once per consumer after all producers finish: a consumer stops at one.
        let stop = UInt32.max
        let start = Clock.monotonicNanos()
        let consumerThreads = (0..<consumers).map { index in
            spawn("ring-bench-pop\(index)") {
                var sum = 0, idle = 0
                while true {
                    guard let value = ring.pop() else { pause(&idle); continue }
                    idle = 0
                    if value == stop { break }
                    sum &+= Int(value)
                }
                checksum.add(sum)
            }
        }
        let producerThreads = (0..<producers).map { index in
            // Producer `index` pushes the values lower..<upper.
            let lower = items * index / producers, upper = items * (index + 1) / producers
            return spawn("ring-bench-push\(index)") {
                var idle = 0
                for value in lower..<upper {
                    while !ring.push(UInt32(truncatingIfNeeded: value)) { pause(&idle) }
                    idle = 0
                }
            }
        }
        for thread in producerThreads { thread.join() }
        var idle = 0
        for _ in 0..<consumers {
            while !ring.push(stop) { pause(&idle) }
        }
        for thread in consumerThreads { thread.join() }
        let elapsed = Clock.monotonicNanos() - start
        precondition(checksum.value == items * (items - 1) / 2, "RingBenchmark: MPMC lost items")
        return rate(items, elapsed)
    }

    private final class Checksum: Sendable {
        private let sum = Atomic<Int>(0)
        func add(_ value: Int) { sum.wrappingAdd(value, ordering: .relaxed) }
        var value: Int { sum.load(ordering: .relaxed) }
    }

    /// One turn of a wait, with exponential backoff: 2, 4 … 32 pause hints
    /// (~25 ns each on the EPYC this was tuned on). Polling less often leaves
    /// the other side's index line in its cache for longer, so it can push (or
    /// pop) several items before the line moves, and the waiter then takes
    /// them with one read: +25–100% over one pause per poll. Every 200th turn
    /// (~150 µs) is a sched_yield instead, in case the other side needs this core.
    @inline(__always)
    private static func pause(_ idle: inout Int) {
        idle += 1
        if idle % 200 == 0 {
            sched_yield()
        } else {
            for _ in 0..<(1 << Swift.min(idle, 5)) { CPU.relax() }
        }
    }

    private static func spawn(_ name: String, _ body: @escaping @Sendable () -> Void) -> Thread {
        do {
            return try Thread(name: name, body)
        } catch {
            fatalError("RingBenchmark: cannot start a thread: \(error)")
        }
    }

    private static func rate(_ items: Int, _ nanos: Int64) -> Double {
        Double(items) / (Double(Swift.max(nanos, 1)) / 1e9)
    }
}
