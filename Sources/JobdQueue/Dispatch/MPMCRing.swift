import Synchronization

/// A bounded multi-producer, multi-consumer ring of `UInt32`: Dmitry Vyukov's
/// queue, where every cell carries a sequence number saying whose turn it is.
///
/// Cell `i` starts with sequence `i`. A producer that claims position `p`
/// (cell `p & mask`) waits for sequence `p`, writes the value and stores
/// `p + 1`; a consumer that claims `p` waits for `p + 1`, reads the value and
/// stores `p + capacity`, which is the sequence the producer of the next lap
/// waits for. Positions are claimed with a CAS on `enqueuePos`/`dequeuePos`.
///
/// Orderings: the claim CASes are relaxed (they publish nothing, the cell's
/// sequence does); each cell's sequence is loaded with acquire and stored with
/// release, so the value write and read in a cell are ordered by that cell's
/// sequence alone (which ThreadSanitizer understands). Nothing needs seq_cst.
public final class MPMCRing: @unchecked Sendable {
    @usableFromInline
    struct Cell: ~Copyable {
        @usableFromInline let sequence: Atomic<Int>
        @usableFromInline var value: UInt32
        init(sequence: Int) {
            self.sequence = Atomic(sequence)
            value = 0
        }
    }

    /// Cells, a power of two ≥ the requested capacity and ≥ 2 (the algorithm
    /// tells "full" from "empty" by sequence numbers one lap apart).
    public let capacity: Int
    @usableFromInline let mask: Int
    // Atomics need stable addresses: cells are initialized in place in memory
    // allocated here and only ever used through the pointer (borrowed in place).
    @usableFromInline let cells: UnsafeMutablePointer<Cell>
    /// The next positions to claim, each on a cache line of its own.
    @usableFromInline let enqueuePos: UnsafeMutablePointer<Atomic<Int>>
    @usableFromInline let dequeuePos: UnsafeMutablePointer<Atomic<Int>>

    /// A ring of at least `capacity` (1...2^30) cells.
    public init(capacity requested: Int) {
        precondition(requested >= 1 && requested <= 1 << 30, "MPMCRing capacity out of range")
        capacity = Swift.max(2, 1 << (Int.bitWidth - (requested - 1).leadingZeroBitCount))
        mask = capacity - 1
        cells = .allocate(capacity: capacity)
        for i in 0..<capacity { (cells + i).initialize(to: Cell(sequence: i)) }
        let lines = UnsafeMutableRawPointer.allocate(byteCount: 2 * ringCacheLine, alignment: ringCacheLine)
        enqueuePos = lines.bindMemory(to: Atomic<Int>.self, capacity: 1)
        dequeuePos = (lines + ringCacheLine).bindMemory(to: Atomic<Int>.self, capacity: 1)
        enqueuePos.initialize(to: Atomic(0))
        dequeuePos.initialize(to: Atomic(0))
    }

    deinit {
        cells.deinitialize(count: capacity)
        cells.deallocate()
        enqueuePos.deinitialize(count: 1)
        dequeuePos.deinitialize(count: 1)
        UnsafeMutableRawPointer(enqueuePos).deallocate()
    }

    /// Appends `value`; false when the ring is full. Any thread.
    @inlinable
    public func push(_ value: UInt32) -> Bool {
        var pos = enqueuePos.pointee.load(ordering: .relaxed)
        while true {
            let cell = cells + (pos & mask)
            // Acquire pairs with the release of the consumer that emptied this
            // cell a lap ago: its read of the value happens before our write.
            let sequence = cell.pointee.sequence.load(ordering: .acquiring)
            let lag = sequence &- pos
            if lag == 0 {
                // The cell is free for position pos: claim it (relaxed, see above).
                let (claimed, current) = enqueuePos.pointee.weakCompareExchange(
                    expected: pos, desired: pos &+ 1, ordering: .relaxed)
                if claimed {
                    cell.pointee.value = value
                    // Release: the value is visible to the consumer that sees pos + 1.
                    cell.pointee.sequence.store(pos &+ 1, ordering: .releasing)
                    return true
                }
                pos = current
            } else if lag < 0 {
                // The cell still holds the value from one lap ago: full.
                return false
            } else {
                // Another producer took pos; start again from the current position.
                pos = enqueuePos.pointee.load(ordering: .relaxed)
            }
        }
    }

    /// Removes the oldest value; nil when the ring is empty. Any thread.
    @inlinable
    public func pop() -> UInt32? {
        var pos = dequeuePos.pointee.load(ordering: .relaxed)
        while true {
            let cell = cells + (pos & mask)
            // Acquire pairs with the producer's release of pos + 1: the value is visible.
            let sequence = cell.pointee.sequence.load(ordering: .acquiring)
            let lag = sequence &- (pos &+ 1)
            if lag == 0 {
                let (claimed, current) = dequeuePos.pointee.weakCompareExchange(
                    expected: pos, desired: pos &+ 1, ordering: .relaxed)
                if claimed {
                    let value = cell.pointee.value
                    // Release: our read is done before the next lap's producer writes.
                    cell.pointee.sequence.store(pos &+ capacity, ordering: .releasing)
                    return value
                }
                pos = current
            } else if lag < 0 {
                // No producer has filled this cell yet: empty.
                return nil
            } else {
                // Another consumer took pos; start again from the current position.
                pos = dequeuePos.pointee.load(ordering: .relaxed)
            }
        }
    }

    /// Values in the ring; approximate while any thread is pushing or popping.
    public var count: Int {
        // Two relaxed loads are no snapshot: clamp the difference to 0...capacity.
        let out = dequeuePos.pointee.load(ordering: .relaxed)
        let into = enqueuePos.pointee.load(ordering: .relaxed)
        return Swift.min(Swift.max(into &- out, 0), capacity)
    }

    /// Whether the ring holds no values; approximate while threads are running.
    public var isEmpty: Bool { count == 0 }
}
