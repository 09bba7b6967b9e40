/// What the job engine needs from a queue's list beyond Redis' list
/// commands: pushes and pops at a priority level, and job tags.
extension ListValue {
    /// Pushes at `level`: at the head of its level (`LPUSH`, back of the
    /// line) or at its tail (`RPUSH`, front of the line). Lists stay plain
    /// (no level counts) while everything is at the default level.
    public func push(_ bytes: UnsafeRawBufferPointer, level: Int, atLevelHead: Bool, tag: UInt64 = 0) {
        if levels == nil {
            if level == PriorityLevels.defaultLevel {
                atLevelHead ? pushFront(bytes, tag: tag) : pushBack(bytes, tag: tag)
                return
            }
            levels = PriorityLevels(all: count, at: PriorityLevels.defaultLevel)
        }
        let start = levels!.start(of: level)
        let index = atLevelHead ? start : start + levels!.counts[level]
        levels!.add(level)
        if index == 0 || index == count {
            // At an end: push without letting pushFront/pushBack count a level again.
            let saved = levels
            levels = nil
            index == 0 ? pushFront(bytes, tag: tag) : pushBack(bytes, tag: tag)
            levels = saved
        } else {
            insertEntry(bytes, tag: tag, at: index)
        }
    }

    public func push(_ bytes: [UInt8], level: Int, atLevelHead: Bool, tag: UInt64 = 0) {
        bytes.withUnsafeBytes { push($0, level: level, atLevelHead: atLevelHead, tag: tag) }
    }

    /// The most urgent level holding an element.
    public var mostUrgentLevel: Int? {
        if let levels { return levels.mostUrgent }
        return isEmpty ? nil : PriorityLevels.defaultLevel
    }

    /// Elements at `level`.
    public func count(at level: Int) -> Int {
        if let levels { return levels.counts[level] }
        return level == PriorityLevels.defaultLevel ? count : 0
    }

    /// Takes the oldest element of `level` (its tail end) for the job engine:
    /// shows it and its tag (0 for a plain push) to `body`. A tag taken this
    /// way is not reported as dropped.
    public func popOldest<R>(at level: Int, _ body: (UnsafeRawBufferPointer, UInt64) -> R) -> R? {
        var result: R?
        takeOldest(at: level) { result = body($0, $1) }
        return result
    }

    /// `popOldest` without a result type: what the in-process dispatch path
    /// calls for every job (a generic function called from another module
    /// runs unspecialized, handling its result through metadata).
    @discardableResult
    public func takeOldest(at level: Int, _ body: (UnsafeRawBufferPointer, UInt64) -> Void) -> Bool {
        guard count(at: level) > 0 else { return false }
        let index = oldestIndex(at: level)
        if index == count - 1, let tail = nodes.last {
            // The most urgent level's oldest job is the tail: the cheap end to take from.
            let (_, data, tag) = tail.taggedEntry(endingAt: tail.end)
            body(data, tag)
            tail.removeLast()
            if tail.count == 0 { nodes.removeLast() }
            count -= 1
            if tag != 0 { taggedCount -= 1 }
            if levels != nil { levels!.remove(level) }
            return true
        }
        let (n, offset) = locate(index)
        let (data, _, tag) = nodes[n].taggedEntry(at: offset)
        body(data, tag)
        removeEntry(at: index)
        if levels != nil { levels!.remove(level) }
        return true
    }

    /// The tag of the element `popOldest(at:)` would take (0: untagged), nil when the level is empty.
    public func peekOldestTag(at level: Int) -> UInt64? {
        guard count(at: level) > 0 else { return nil }
        let (n, offset) = locate(oldestIndex(at: level))
        return nodes[n].taggedEntry(at: offset).2
    }

    private func oldestIndex(at level: Int) -> Int {
        levels.map { $0.start(of: level) + $0.counts[level] - 1 } ?? count - 1
    }

    /// Removes the element tagged `tag` (a canceled or expired job); false when absent.
    @discardableResult
    public func remove(tag: UInt64) -> Bool { removeTagged(tag) != nil }

    /// Removes the element tagged `tag` and returns its bytes; nil when absent.
    public func removeTagged(_ tag: UInt64) -> [UInt8]? {
        guard taggedCount > 0 else { return nil }
        var found: Int?
        forEachTagged { i, t in
            if t == tag { found = i; return false }
            return true
        }
        guard let found else { return nil }
        let bytes = element(at: found) { Array($0) }
        if levels != nil { levels!.remove(levels!.level(at: found)) }
        removeEntry(at: found)
        return bytes
    }

    /// Calls `body(index, tag)` for tagged elements, front to back, until it returns false.
    @discardableResult
    public func forEachTagged(_ body: (Int, UInt64) -> Bool) -> Bool {
        var index = 0
        for node in nodes {
            var offset = node.start
            while offset < node.end {
                let (_, next, tag) = node.taggedEntry(at: offset)
                if tag != 0 && !body(index, tag) { return false }
                index += 1
                offset = next
            }
        }
        return true
    }

    /// Shows every element with its tag and level, front to back (log rewrites).
    public func forEachJob(_ body: (UnsafeRawBufferPointer, UInt64, Int) -> Void) {
        var level = levels?.leastUrgent ?? PriorityLevels.defaultLevel
        var leftInLevel = levels?.counts[level] ?? count
        for node in nodes {
            var offset = node.start
            while offset < node.end {
                while leftInLevel == 0, level > 0 {
                    level -= 1
                    leftInLevel = levels?.counts[level] ?? 0
                }
                let (data, next, tag) = node.taggedEntry(at: offset)
                body(data, tag, level)
                leftInLevel -= 1
                offset = next
            }
        }
    }

    /// LREM on a list with levels or tags: one element at a time, keeping both right.
    func removeAllOneByOne(equalTo bytes: UnsafeRawBufferPointer, limit: Int, fromBack: Bool) -> Int {
        var matches: [Int] = []
        var index = 0
        forEach { data in
            if data.elementsEqual(bytes) { matches.append(index) }
            index += 1
            return true
        }
        if fromBack { matches.reverse() }
        if limit > 0 && matches.count > limit { matches.removeLast(matches.count - limit) }
        for i in matches.sorted(by: >) {
            if levels != nil { levels!.remove(levels!.level(at: i)) }
            let tag = removeEntry(at: i)
            if tag != 0 { DroppedJobTags.tags.append(tag) }
        }
        return matches.count
    }
}

extension ListValue {
    /// Appends at the tail with an explicit level (loading a rewritten log,
    /// which lists elements head to tail, least urgent level first).
    public func appendRestored(_ bytes: UnsafeRawBufferPointer, level: Int, tag: UInt64) {
        if levels == nil && level != PriorityLevels.defaultLevel { levels = PriorityLevels(all: count, at: PriorityLevels.defaultLevel) }
        let saved = levels
        levels = nil
        pushBack(bytes, tag: tag)
        levels = saved
        if levels != nil { levels!.add(level) }
    }
}
