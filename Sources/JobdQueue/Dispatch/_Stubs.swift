// TEMPORARY stand-ins until the real rings land (wt-ring).
import Synchronization
import CJobdSystem

public final class SPSCRing: @unchecked Sendable {
    let buffer: UnsafeMutablePointer<UInt32>
    let mask: Int
    let head = Atomic<Int>(0)
    let tail = Atomic<Int>(0)
    public init(capacity: Int) {
        var c = 1
        while c < capacity { c <<= 1 }
        mask = c - 1
        buffer = .allocate(capacity: c)
    }
    deinit { buffer.deallocate() }
    public var capacity: Int { mask + 1 }
    public func push(_ v: UInt32) -> Bool {
        let t = tail.load(ordering: .relaxed)
        if t - head.load(ordering: .acquiring) > mask { return false }
        buffer[t & mask] = v
        tail.store(t + 1, ordering: .releasing)
        return true
    }
    public func pop() -> UInt32? {
        let h = head.load(ordering: .relaxed)
        if h == tail.load(ordering: .acquiring) { return nil }
        let v = buffer[h & mask]
        head.store(h + 1, ordering: .releasing)
        return v
    }
    public var count: Int { tail.load(ordering: .acquiring) - head.load(ordering: .acquiring) }
    public var isEmpty: Bool { count <= 0 }
}

public final class Parker: @unchecked Sendable {
    let state: UnsafeMutablePointer<UInt32> = { let p = UnsafeMutablePointer<UInt32>.allocate(capacity: 1); p.initialize(to: 0); return p }()
    let flag = Atomic<UInt32>(0)
    public init() {}
    public func park(spins: Int = 100, timeoutNanos: Int64 = -1) {
        for _ in 0..<spins where flag.exchange(0, ordering: .acquiring) == 1 { return }
        if flag.exchange(0, ordering: .acquiring) == 1 { return }
        _ = cjobd_futex_wait(state, 0, timeoutNanos < 0 ? 1_000_000 : timeoutNanos)
    }
    public func unpark() {
        flag.store(1, ordering: .releasing)
        _ = cjobd_futex_wake(state, 1)
    }
}

public enum RingBenchmark {
    public static func spsc(items: Int, ringCapacity: Int) -> Double { 0 }
    public static func mpmc(producers: Int, consumers: Int, items: Int, ringCapacity: Int) -> Double { 0 }
}
