/// A Redis list: a deque of packed nodes (Redis' quicklist). Pushes and pops
/// at both ends are O(1); indexing walks node counts from the nearer end.
///
/// Elements are handed to callers as borrowed byte views (valid until the
/// list changes), so replies are encoded straight from node memory.
public final class ListValue {
    var nodes = RingDeque<PackedNode>()
    public internal(set) var count = 0
    /// Elements that carry a job tag (see PackedNode); 0 for plain lists.
    public internal(set) var taggedCount = 0
    /// Per-level counts once the list holds jobs of more than the default
    /// level (ListValue+Jobs.swift); nil: every element at the default level.
    public internal(set) var levels: PriorityLevels?

    /// Target bytes per node (as Redis' list-max-listpack-size -2).
    static let nodeBytes = 8192
    private static let firstNodeCapacity = 128

    public init() {}

    deinit {
        // Jobs deleted with their list (DEL, FLUSHALL, overwrite) leave the engine too.
        if taggedCount > 0 { forEachTagged { _, tag in DroppedJobTags.tags.append(tag); return true } }
    }

    public var isEmpty: Bool { count == 0 }

    // MARK: Ends

    /// Pushes at the head; with levels, the element joins the head's level.
    public func pushFront(_ bytes: UnsafeRawBufferPointer, tag: UInt64 = 0) {
        if levels != nil { levels!.add(levels!.leastUrgent ?? PriorityLevels.defaultLevel) }
        let size = PackedNode.encodedSize(bytes.count, tagged: tag != 0)
        if let head = nodes.first, head.count == 0 || head.usedBytes + size <= ListValue.nodeBytes {
            head.pushFront(bytes, tag: tag)
        } else {
            let node = PackedNode(capacity: ListValue.capacity(for: size), growsAtFront: true)
            node.pushFront(bytes, tag: tag)
            nodes.prepend(node)
        }
        count += 1
        if tag != 0 { taggedCount += 1 }
    }

    /// Pushes at the tail; with levels, the element joins the tail's level.
    public func pushBack(_ bytes: UnsafeRawBufferPointer, tag: UInt64 = 0) {
        if levels != nil { levels!.add(levels!.mostUrgent ?? PriorityLevels.defaultLevel) }
        let size = PackedNode.encodedSize(bytes.count, tagged: tag != 0)
        if let tail = nodes.last, tail.count == 0 || tail.usedBytes + size <= ListValue.nodeBytes {
            tail.pushBack(bytes, tag: tag)
        } else {
            let node = PackedNode(capacity: ListValue.capacity(for: size), growsAtFront: false)
            node.pushBack(bytes, tag: tag)
            nodes.append(node)
        }
        count += 1
        if tag != 0 { taggedCount += 1 }
    }

    public func pushFront(_ bytes: [UInt8]) { bytes.withUnsafeBytes { pushFront($0) } }
    public func pushBack(_ bytes: [UInt8]) { bytes.withUnsafeBytes { pushBack($0) } }

    private static func capacity(for size: Int) -> Int {
        var capacity = firstNodeCapacity
        while capacity < size { capacity *= 2 }
        return capacity
    }

    /// Shows the first element to `body`, then removes it.
    @discardableResult
    public func popFront<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R? {
        guard let head = nodes.first else { return nil }
        if levels != nil { levels!.remove(levels!.leastUrgent!) }
        let (data, _, tag) = head.taggedEntry(at: head.start)
        if tag != 0 { dropped(tag) }
        let result = body(data)
        head.removeFirst()
        if head.count == 0 { nodes.removeFirst() }
        count -= 1
        return result
    }

    /// Shows the last element to `body`, then removes it.
    @discardableResult
    public func popBack<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R? {
        guard let tail = nodes.last else { return nil }
        if levels != nil { levels!.remove(levels!.mostUrgent!) }
        let (_, data, tag) = tail.taggedEntry(endingAt: tail.end)
        if tag != 0 { dropped(tag) }
        let result = body(data)
        tail.removeLast()
        if tail.count == 0 { nodes.removeLast() }
        count -= 1
        return result
    }

    public func popFront() -> [UInt8]? { popFront { Array($0) } }
    public func popBack() -> [UInt8]? { popBack { Array($0) } }

    /// Removes `n` elements from the front.
    public func removeFirst(_ n: Int) {
        if levels != nil || taggedCount > 0 {
            for _ in 0..<min(n, count) { popFront { _ in } }
            return
        }
        var remaining = min(n, count)
        count -= remaining
        while remaining > 0, let head = nodes.first {
            if head.count <= remaining {
                remaining -= head.count
                nodes.removeFirst()
            } else {
                for _ in 0..<remaining { head.removeFirst() }
                remaining = 0
            }
        }
    }

    /// Removes `n` elements from the back.
    public func removeLast(_ n: Int) {
        if levels != nil || taggedCount > 0 {
            for _ in 0..<min(n, count) { popBack { _ in } }
            return
        }
        var remaining = min(n, count)
        count -= remaining
        while remaining > 0, let tail = nodes.last {
            if tail.count <= remaining {
                remaining -= tail.count
                nodes.removeLast()
            } else {
                for _ in 0..<remaining { tail.removeLast() }
                remaining = 0
            }
        }
    }

    // MARK: Positions

    /// Where element `index` lives: node number and entry start offset.
    func locate(_ index: Int) -> (node: Int, offset: Int) {
        precondition(index >= 0 && index < count)
        var nodeIndex: Int
        var within: Int
        if index < count / 2 {
            nodeIndex = 0
            within = index
            while within >= nodes[nodeIndex].count { within -= nodes[nodeIndex].count; nodeIndex += 1 }
        } else {
            nodeIndex = nodes.count - 1
            var fromEnd = count - 1 - index
            while fromEnd >= nodes[nodeIndex].count { fromEnd -= nodes[nodeIndex].count; nodeIndex -= 1 }
            within = nodes[nodeIndex].count - 1 - fromEnd
        }
        let node = nodes[nodeIndex]
        if within < node.count / 2 {
            var offset = node.start
            for _ in 0..<within { offset = node.entry(at: offset).next }
            return (nodeIndex, offset)
        }
        var offset = node.end
        for _ in 0..<(node.count - within) { offset = node.entry(endingAt: offset).start }
        return (nodeIndex, offset)
    }

    /// Shows element `index` (0-based from the front) to `body`.
    public func element<R>(at index: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R? {
        guard index >= 0 && index < count else { return nil }
        let (n, offset) = locate(index)
        return body(nodes[n].entry(at: offset).data)
    }

    /// Shows elements from `first` onwards, front to back, until `body` returns false.
    public func forEach(from first: Int = 0, _ body: (UnsafeRawBufferPointer) -> Bool) {
        guard first >= 0 && first < count else { return }
        var (n, offset) = locate(first)
        while n < nodes.count {
            var keepGoing = true
            nodes[n].forEachEntry(from: offset) { _, data, _ in
                keepGoing = body(data)
                return keepGoing
            }
            if !keepGoing { return }
            n += 1
            if n < nodes.count { offset = nodes[n].start }
        }
    }

    /// Shows elements from the back towards the front until `body` returns false.
    public func forEachReversed(_ body: (UnsafeRawBufferPointer) -> Bool) {
        var n = nodes.count - 1
        while n >= 0 {
            let node = nodes[n]
            var offset = node.end
            while offset > node.start {
                let (entryStart, data) = node.entry(endingAt: offset)
                if !body(data) { return }
                offset = entryStart
            }
            n -= 1
        }
    }

    /// Replaces element `index`; false when out of range.
    @discardableResult
    public func set(at index: Int, to bytes: UnsafeRawBufferPointer) -> Bool {
        guard index >= 0 && index < count else { return false }
        let (n, offset) = locate(index)
        let node = nodes[n]
        // A job keeps its tag when LSET changes its payload.
        let (_, next, tag) = node.taggedEntry(at: offset)
        node.splice(from: offset, to: next, inserting: bytes, tag: tag, entryDelta: 0)
        splitIfOversized(n)
        return true
    }

    /// Inserts before element `index` (`index == count` appends).
    /// With levels, the element joins the level of the element it lands before.
    public func insert(_ bytes: UnsafeRawBufferPointer, at index: Int) {
        precondition(index >= 0 && index <= count)
        if index == 0 { pushFront(bytes); return }
        if index == count { pushBack(bytes); return }
        if levels != nil { levels!.add(levels!.level(at: index)) }
        insertEntry(bytes, tag: 0, at: index)
    }

    /// Inserts an entry strictly inside the list (levels are the caller's business).
    func insertEntry(_ bytes: UnsafeRawBufferPointer, tag: UInt64, at index: Int) {
        let (n, offset) = locate(index)
        nodes[n].splice(from: offset, to: offset, inserting: bytes, tag: tag, entryDelta: 1)
        count += 1
        if tag != 0 { taggedCount += 1 }
        splitIfOversized(n)
    }

    /// Removes element `index`; returns its tag (0 when untagged). Levels are the caller's business.
    @discardableResult
    func removeEntry(at index: Int) -> UInt64 {
        let (n, offset) = locate(index)
        let node = nodes[n]
        let (_, next, tag) = node.taggedEntry(at: offset)
        node.splice(from: offset, to: next, inserting: nil, entryDelta: -1)
        if node.count == 0 { nodes.remove(at: n) }
        count -= 1
        if tag != 0 { taggedCount -= 1 }
        return tag
    }

    func dropped(_ tag: UInt64) {
        taggedCount -= 1
        DroppedJobTags.tags.append(tag)
    }

    /// Index of the first element equal to `bytes`, or nil.
    public func firstIndex(of bytes: UnsafeRawBufferPointer) -> Int? {
        var index = 0
        var found: Int?
        forEach { data in
            if data.elementsEqual(bytes) { found = index; return false }
            index += 1
            return true
        }
        return found
    }

    /// Removes up to `limit` elements equal to `bytes` (0 = all), scanning
    /// from the front, or from the back when `fromBack`. Returns how many.
    public func removeAll(equalTo bytes: UnsafeRawBufferPointer, limit: Int, fromBack: Bool) -> Int {
        if levels != nil || taggedCount > 0 { return removeAllOneByOne(equalTo: bytes, limit: limit, fromBack: fromBack) }
        var removed = 0
        let order = fromBack ? Array((0..<nodes.count).reversed()) : Array(0..<nodes.count)
        var emptied: [Int] = []
        for n in order {
            if limit > 0 && removed >= limit { break }
            let node = nodes[n]
            if fromBack {
                var offset = node.end
                while offset > node.start && (limit == 0 || removed < limit) {
                    let (entryStart, data) = node.entry(endingAt: offset)
                    if data.elementsEqual(bytes) {
                        node.splice(from: entryStart, to: offset, inserting: nil, entryDelta: -1)
                        removed += 1
                    }
                    offset = entryStart
                }
            } else {
                var offset = node.start
                while offset < node.end && (limit == 0 || removed < limit) {
                    let (data, next) = node.entry(at: offset)
                    if data.elementsEqual(bytes) {
                        node.splice(from: offset, to: next, inserting: nil, entryDelta: -1)
                        removed += 1
                    } else {
                        offset = next
                    }
                }
            }
            if node.count == 0 { emptied.append(n) }
        }
        for n in emptied.sorted(by: >) { nodes.remove(at: n) }
        count -= removed
        return removed
    }

    /// Keeps a node from growing far past the target size after inserts in the middle.
    func splitIfOversized(_ n: Int) {
        let node = nodes[n]
        guard node.usedBytes > 2 * ListValue.nodeBytes, node.count > 1 else { return }
        var kept = 0
        var splitOffset = node.start
        node.forEachEntry { _, _, next in
            kept += 1
            splitOffset = next
            return next - node.start < node.usedBytes / 2
        }
        guard kept < node.count else { return }
        let tail = node.splitOff(at: splitOffset, entries: node.count - kept)
        nodes.insert(tail, at: n + 1)
    }

    /// All elements (tests and tools).
    public var elements: [[UInt8]] {
        var result: [[UInt8]] = []
        result.reserveCapacity(count)
        forEach { result.append(Array($0)); return true }
        return result
    }

    /// Bytes held by the nodes' blocks (for memory accounting).
    public var allocatedBytes: Int {
        var total = 0
        for node in nodes { total += node.capacity + 48 }
        return total
    }
}
