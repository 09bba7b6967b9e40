/// A double-ended queue on a power-of-two ring: O(1) push and pop at both
/// ends, O(1) indexing. Used for list nodes and FIFO queues of waiters.
/// Inlinable so that other modules get versions specialized for their
/// element type (unspecialized code looks up generic metadata per call).
public struct RingDeque<Element> {
    @usableFromInline var storage: ContiguousArray<Element?>
    @usableFromInline var head = 0
    @usableFromInline var storedCount = 0

    /// Allocates nothing until the first element: many deques (per queue, per level) stay empty.
    @inlinable public init() { storage = [] }

    @inlinable public var count: Int { storedCount }
    @inlinable @inline(__always) public var isEmpty: Bool { count == 0 }
    @inlinable @inline(__always) var mask: Int { storage.count - 1 }

    @inlinable public var first: Element? { count == 0 ? nil : storage[head] }
    @inlinable public var last: Element? { count == 0 ? nil : storage[(head + count - 1) & mask] }

    @inlinable @inline(__always)
    public subscript(index: Int) -> Element {
        get { storage[(head + index) & mask]! }
        set { storage[(head + index) & mask] = newValue }
    }

    @inlinable public mutating func append(_ element: Element) {
        if count == storage.count { grow() }
        storage[(head + count) & mask] = element
        storedCount += 1
    }

    @inlinable public mutating func prepend(_ element: Element) {
        if count == storage.count { grow() }
        head = (head - 1) & mask
        storage[head] = element
        storedCount += 1
    }

    @discardableResult
    @inlinable public mutating func removeFirst() -> Element {
        precondition(count > 0)
        let element = storage[head]!
        storage[head] = nil
        head = (head + 1) & mask
        storedCount -= 1
        shrinkIfSparse()
        return element
    }

    @discardableResult
    @inlinable public mutating func removeLast() -> Element {
        precondition(count > 0)
        let slot = (head + count - 1) & mask
        let element = storage[slot]!
        storage[slot] = nil
        storedCount -= 1
        shrinkIfSparse()
        return element
    }

    /// Inserts at `index` (0...count), shifting later elements: O(n).
    @inlinable public mutating func insert(_ element: Element, at index: Int) {
        precondition(index >= 0 && index <= count)
        if index == 0 { prepend(element); return }
        append(element)
        var i = count - 1
        while i > index {
            self[i] = self[i - 1]
            i -= 1
        }
        self[index] = element
    }

    /// Removes the element at `index`, shifting later elements: O(n).
    @discardableResult
    @inlinable public mutating func remove(at index: Int) -> Element {
        precondition(index >= 0 && index < count)
        let element = self[index]
        if index == 0 { removeFirst(); return element }
        for i in index..<(count - 1) { self[i] = self[i + 1] }
        removeLast()
        return element
    }

    /// Removes the first element for which `matches` is true; returns whether one was.
    @discardableResult
    @inlinable public mutating func removeFirst(where matches: (Element) -> Bool) -> Bool {
        for i in 0..<count where matches(self[i]) {
            remove(at: i)
            return true
        }
        return false
    }

    @inlinable public mutating func removeAll() {
        storage = []
        head = 0
        storedCount = 0
    }

    @inlinable mutating func grow() {
        var bigger = ContiguousArray<Element?>(repeating: nil, count: Swift.max(4, storage.count * 2))
        for i in 0..<count { bigger[i] = storage[(head + i) & mask] }
        storage = bigger
        head = 0
    }

    @inlinable mutating func shrinkIfSparse() {
        guard storage.count > 64, count < storage.count / 8 else { return }
        var smaller = ContiguousArray<Element?>(repeating: nil, count: storage.count / 4)
        for i in 0..<count { smaller[i] = storage[(head + i) & mask] }
        storage = smaller
        head = 0
    }
}

extension RingDeque: Sequence {
    public struct Iterator: IteratorProtocol {
        @usableFromInline let deque: RingDeque
        @usableFromInline var index = 0
        @inlinable init(deque: RingDeque) { self.deque = deque }
        @inlinable public mutating func next() -> Element? {
            guard index < deque.count else { return nil }
            defer { index += 1 }
            return deque[index]
        }
    }

    @inlinable public func makeIterator() -> Iterator { Iterator(deque: self) }
}
