/// A double-ended queue on a power-of-two ring: O(1) push and pop at both
/// ends, O(1) indexing. Used for list nodes and FIFO queues of waiters.
public struct RingDeque<Element> {
    private var storage: ContiguousArray<Element?>
    private var head = 0
    public private(set) var count = 0

    public init() { storage = ContiguousArray(repeating: nil, count: 4) }

    @inline(__always) public var isEmpty: Bool { count == 0 }
    @inline(__always) private var mask: Int { storage.count - 1 }

    public var first: Element? { count == 0 ? nil : storage[head] }
    public var last: Element? { count == 0 ? nil : storage[(head + count - 1) & mask] }

    @inline(__always)
    public subscript(index: Int) -> Element {
        get { storage[(head + index) & mask]! }
        set { storage[(head + index) & mask] = newValue }
    }

    public mutating func append(_ element: Element) {
        if count == storage.count { grow() }
        storage[(head + count) & mask] = element
        count += 1
    }

    public mutating func prepend(_ element: Element) {
        if count == storage.count { grow() }
        head = (head - 1) & mask
        storage[head] = element
        count += 1
    }

    @discardableResult
    public mutating func removeFirst() -> Element {
        precondition(count > 0)
        let element = storage[head]!
        storage[head] = nil
        head = (head + 1) & mask
        count -= 1
        shrinkIfSparse()
        return element
    }

    @discardableResult
    public mutating func removeLast() -> Element {
        precondition(count > 0)
        let slot = (head + count - 1) & mask
        let element = storage[slot]!
        storage[slot] = nil
        count -= 1
        shrinkIfSparse()
        return element
    }

    /// Inserts at `index` (0...count), shifting later elements: O(n).
    public mutating func insert(_ element: Element, at index: Int) {
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
    public mutating func remove(at index: Int) -> Element {
        precondition(index >= 0 && index < count)
        let element = self[index]
        if index == 0 { removeFirst(); return element }
        for i in index..<(count - 1) { self[i] = self[i + 1] }
        removeLast()
        return element
    }

    /// Removes the first element for which `matches` is true; returns whether one was.
    @discardableResult
    public mutating func removeFirst(where matches: (Element) -> Bool) -> Bool {
        for i in 0..<count where matches(self[i]) {
            remove(at: i)
            return true
        }
        return false
    }

    public mutating func removeAll() {
        storage = ContiguousArray(repeating: nil, count: 4)
        head = 0
        count = 0
    }

    private mutating func grow() {
        var bigger = ContiguousArray<Element?>(repeating: nil, count: storage.count * 2)
        for i in 0..<count { bigger[i] = storage[(head + i) & mask] }
        storage = bigger
        head = 0
    }

    private mutating func shrinkIfSparse() {
        guard storage.count > 64, count < storage.count / 8 else { return }
        var smaller = ContiguousArray<Element?>(repeating: nil, count: storage.count / 4)
        for i in 0..<count { smaller[i] = storage[(head + i) & mask] }
        storage = smaller
        head = 0
    }
}

extension RingDeque: Sequence {
    public struct Iterator: IteratorProtocol {
        let deque: RingDeque
        var index = 0
        public mutating func next() -> Element? {
            guard index < deque.count else { return nil }
            defer { index += 1 }
            return deque[index]
        }
    }

    public func makeIterator() -> Iterator { Iterator(deque: self) }
}
