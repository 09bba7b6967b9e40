import Synchronization

/// Bytes between the producer's and the consumer's hot words, so that neither
/// side's stores invalidate the line the other side writes.
let ringCacheLine = 64

/// A bounded single-producer, single-consumer ring of `UInt32` (slot indices):
/// the engine hands jobs to one worker through one, the worker hands
/// completions back through another.
///
/// `head` (next index to pop) and `tail` (next index to push) only grow; a
/// slot is `index & mask`. Each side keeps a cached copy of the other side's
/// index on its own cache line and reads the shared one only when the cache
/// says full (producer) or empty (consumer), so in steady state a push or pop
/// touches the other side's line once per lap instead of once per item.
///
/// Orderings: the producer writes a slot, then stores `tail` with release; the
/// consumer loads `tail` with acquire before reading slots. The consumer reads
/// slots, then stores `head` with release; the producer loads `head` with
/// acquire before overwriting them. Slots are plain memory ordered by these
/// pairs (which ThreadSanitizer understands); nothing needs seq_cst.
public final class SPSCRing: @unchecked Sendable {
    /// Slots, a power of two ≥ the requested capacity.
    public let capacity: Int
    @usableFromInline let mask: Int
    @usableFromInline let slots: UnsafeMutablePointer<UInt32>

    // Two cache lines from one allocation. Producer's line: tail, cachedHead.
    // Consumer's line: head, cachedTail. The cached copies are plain Ints, each
    // read and written by one thread only. (Pointers rather than stored
    // properties: Swift does not promise class field layout or padding.)
    @usableFromInline let tail: UnsafeMutablePointer<Atomic<Int>>
    @usableFromInline let cachedHead: UnsafeMutablePointer<Int>
    @usableFromInline let head: UnsafeMutablePointer<Atomic<Int>>
    @usableFromInline let cachedTail: UnsafeMutablePointer<Int>

    /// A ring of at least `capacity` (1...2^30) slots.
    public init(capacity requested: Int) {
        precondition(requested >= 1 && requested <= 1 << 30, "SPSCRing capacity out of range")
        capacity = 1 << (Int.bitWidth - (requested - 1).leadingZeroBitCount)
        mask = capacity - 1
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: 0, count: capacity)
        let lines = UnsafeMutableRawPointer.allocate(byteCount: 2 * ringCacheLine, alignment: ringCacheLine)
        tail = lines.bindMemory(to: Atomic<Int>.self, capacity: 1)
        cachedHead = (lines + 8).bindMemory(to: Int.self, capacity: 1)
        head = (lines + ringCacheLine).bindMemory(to: Atomic<Int>.self, capacity: 1)
        cachedTail = (lines + ringCacheLine + 8).bindMemory(to: Int.self, capacity: 1)
        tail.initialize(to: Atomic(0))
        cachedHead.initialize(to: 0)
        head.initialize(to: Atomic(0))
        cachedTail.initialize(to: 0)
    }

    deinit {
        tail.deinitialize(count: 1)
        head.deinitialize(count: 1)
        UnsafeMutableRawPointer(tail).deallocate()
        slots.deallocate()
    }

    // MARK: Producer

    /// Appends `value`; false when the ring is full. Producer thread only.
    @inlinable
    public func push(_ value: UInt32) -> Bool {
        // Relaxed: only this thread stores tail, so it always sees its own last store.
        let t = tail.pointee.load(ordering: .relaxed)
        if t &- cachedHead.pointee == capacity {
            // Looks full. Acquire pairs with the consumer's release of head:
            // its reads of the slots we are about to reuse happen before our writes.
            let h = head.pointee.load(ordering: .acquiring)
            cachedHead.pointee = h
            if t &- h == capacity { return false }
        }
        slots[t & mask] = value
        // Release: the slot write is visible before the consumer can see the new tail.
        tail.pointee.store(t &+ 1, ordering: .releasing)
        return true
    }

    /// Appends up to `count` values from `source`, as many as fit; returns how
    /// many. At most one acquire load and one release store. Producer only.
    @inlinable
    public func pushBatch(from source: UnsafePointer<UInt32>, count: Int) -> Int {
        let t = tail.pointee.load(ordering: .relaxed)
        var free = capacity &- (t &- cachedHead.pointee)
        if free < count {
            let h = head.pointee.load(ordering: .acquiring)  // as in push
            cachedHead.pointee = h
            free = capacity &- (t &- h)
        }
        let n = Swift.min(free, count)
        guard n > 0 else { return 0 }
        let start = t & mask
        let first = Swift.min(n, capacity &- start)
        (slots + start).update(from: source, count: first)
        if first < n { slots.update(from: source + first, count: n &- first) }
        tail.pointee.store(t &+ n, ordering: .releasing)  // as in push
        return n
    }

    /// Free slots as the producer sees them (exact for the producer: the
    /// consumer can only make more room). Producer thread only.
    public var freeSpace: Int {
        let h = head.pointee.load(ordering: .acquiring)
        cachedHead.pointee = h
        return capacity &- (tail.pointee.load(ordering: .relaxed) &- h)
    }

    // MARK: Consumer

    /// Removes the oldest value; nil when the ring is empty. Consumer thread only.
    @inlinable
    public func pop() -> UInt32? {
        // Relaxed: only this thread stores head.
        let h = head.pointee.load(ordering: .relaxed)
        if h == cachedTail.pointee {
            // Looks empty. Acquire pairs with the producer's release of tail:
            // the slot writes before it are visible to our reads.
            let t = tail.pointee.load(ordering: .acquiring)
            cachedTail.pointee = t
            if h == t { return nil }
        }
        let value = slots[h & mask]
        // Release: our slot read is done before the producer may reuse the slot.
        head.pointee.store(h &+ 1, ordering: .releasing)
        return value
    }

    /// Moves up to `max` of the oldest values into `buffer`; returns how many.
    /// At most one acquire load and one release store. Consumer thread only.
    @inlinable
    public func popBatch(into buffer: UnsafeMutablePointer<UInt32>, max: Int) -> Int {
        let h = head.pointee.load(ordering: .relaxed)
        var available = cachedTail.pointee &- h
        if available < max {
            let t = tail.pointee.load(ordering: .acquiring)  // as in pop
            cachedTail.pointee = t
            available = t &- h
        }
        let n = Swift.min(available, max)
        guard n > 0 else { return 0 }
        let start = h & mask
        let first = Swift.min(n, capacity &- start)
        buffer.update(from: slots + start, count: first)
        if first < n { (buffer + first).update(from: slots, count: n &- first) }
        head.pointee.store(h &+ n, ordering: .releasing)  // as in pop
        return n
    }

    // MARK: Any thread

    /// Values in the ring; approximate while either side is running.
    public var count: Int {
        // Head first, with acquire: the consumer saw a tail ≥ this head before
        // storing it, so the tail read next is too and the difference is not
        // negative. Clamp anyway for a reader racing both sides.
        let h = head.pointee.load(ordering: .acquiring)
        let t = tail.pointee.load(ordering: .acquiring)
        return Swift.min(Swift.max(t &- h, 0), capacity)
    }

    /// Whether the ring holds no values; approximate while either side is running.
    public var isEmpty: Bool { count == 0 }
}
