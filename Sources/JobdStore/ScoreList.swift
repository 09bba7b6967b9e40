import Glibc

/// The ordered half of a sorted set: a skip list with spans (Redis'
/// zskiplist). Elements are ordered by score, then by member bytes (memcmp,
/// shorter first on a common prefix: Redis' sdscmp). Spans count the level-0
/// steps each link skips, so ranks come out of the same O(log n) descent as
/// lookups. The member→score table lives with the caller; this list trusts it
/// (members are unique, scores never NaN).
///
/// Member arrays are stored as passed (copy-on-write, so they share storage
/// with the caller's table) and handed back the same way; nothing is copied.
/// The list must not be changed from inside a `forEach` or `removeRanks` body.
public final class ScoreList {
    /// A node's fixed part; its levels follow it in the same allocation, as
    /// in Redis' zskiplistNode with its flexible level array, so a search
    /// touches one block per node. Nodes are not objects: the list allocates
    /// one when inserting and frees it when removing (or in removeAll and
    /// deinit), and every link is a plain pointer, so walking and relinking
    /// do no reference counting.
    struct Node {
        var score: Double
        var member: [UInt8]
        /// The previous node at level 0 (nil for the first).
        var backward: NodeRef?
        /// The number of levels after this header.
        let height: Int
    }

    typealias NodeRef = UnsafeMutablePointer<Node>

    struct Level {
        var forward: NodeRef?
        /// Level-0 steps from this node to `forward`; for a nil forward, the
        /// nodes after this one (kept as Redis does, though no query reads it).
        var span: Int
    }

    static let maxLevel = 32

    /// One process-wide seed (a `let`, so initialised once, thread-safely);
    /// each list mixes in its own address so lists do not share a sequence.
    private static let seed: UInt64 = {
        var generator = SystemRandomNumberGenerator()
        return generator.next()
    }()

    private let header = ScoreList.makeNode(score: 0, member: [], height: ScoreList.maxLevel)
    private var tail: NodeRef?
    /// Levels in use: the header's links above it are nil.
    private var level = 1
    public private(set) var count = 0
    private var randomState: UInt64 = 0
    /// Tests lower it to 1 to build plain level-0 chains, the longest runs
    /// for removeAll and deinit to walk (they free nodes in a loop, never by
    /// recursion).
    var levelCap = ScoreList.maxLevel

    public init() {
        randomState = ScoreList.seed ^ UInt64(UInt(bitPattern: ObjectIdentifier(self).hashValue))
    }

    deinit {
        unlinkAll()
        ScoreList.free(header)
    }

    public var isEmpty: Bool { count == 0 }

    // MARK: Nodes

    /// One allocation: the Node, then `height` empty levels.
    private static func makeNode(score: Double, member: [UInt8], height: Int) -> NodeRef {
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: MemoryLayout<Node>.stride + height * MemoryLayout<Level>.stride,
            alignment: Swift.max(MemoryLayout<Node>.alignment, MemoryLayout<Level>.alignment))
        let node = raw.bindMemory(to: Node.self, capacity: 1)
        node.initialize(to: Node(score: score, member: member, backward: nil, height: height))
        (raw + MemoryLayout<Node>.stride).bindMemory(to: Level.self, capacity: height)
            .initialize(repeating: Level(forward: nil, span: 0), count: height)
        return node
    }

    /// Releases the member and the block (levels are plain values).
    private static func free(_ node: NodeRef) {
        node.deinitialize(count: 1)
        UnsafeMutableRawPointer(node).deallocate()
    }

    // MARK: Order

    /// sdscmp: memcmp over the common length, then the shorter first.
    @inline(__always)
    static func compare(_ a: [UInt8], _ b: [UInt8]) -> Int {
        a.withUnsafeBytes { x in
            b.withUnsafeBytes { y in
                let n = Swift.min(x.count, y.count)
                if n > 0 {
                    let c = memcmp(x.baseAddress!, y.baseAddress!, n)
                    if c != 0 { return Int(c) }
                }
                return x.count - y.count
            }
        }
    }

    /// Whether `node` sorts strictly before (score, member).
    @inline(__always)
    fileprivate static func precedes(_ node: NodeRef, _ score: Double, _ member: [UInt8]) -> Bool {
        node.pointee.score < score || (node.pointee.score == score && compare(node.pointee.member, member) < 0)
    }

    /// Splitmix64: one multiply-mix per insert is all the level needs.
    @inline(__always)
    private func randomLevel() -> Int {
        randomState &+= 0x9E37_79B9_7F4A_7C15
        var z = randomState
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        // Each pair of zero low bits is one more level: probability 1/4 per level, as Redis.
        return Swift.min(1 + z.trailingZeroBitCount / 2, levelCap)
    }

    /// Scratch for the rightmost node visited at each level and its rank: on
    /// the stack, so updates do not allocate.
    @inline(__always)
    private func withPath<R>(_ body: (UnsafeMutablePointer<NodeRef>, UnsafeMutablePointer<Int>) -> R) -> R {
        withUnsafeTemporaryAllocation(of: NodeRef.self, capacity: ScoreList.maxLevel) { update in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: ScoreList.maxLevel) { rank in
                body(update.baseAddress!, rank.baseAddress!)
            }
        }
    }

    // MARK: Changes

    /// Inserts a member known to be absent.
    public func insert(score: Double, member: [UInt8]) {
        link(ScoreList.makeNode(score: score, member: member, height: randomLevel()), score, member)
    }

    /// Links a node at its own height (zslInsert); also reused by
    /// updateScore. `score` and `member` are the node's own.
    private func link(_ node: NodeRef, _ score: Double, _ member: [UInt8]) {
        let height = node.pointee.height
        withPath { update, rank in
            var x = header
            var i = level - 1
            while i >= 0 {
                rank[i] = i == level - 1 ? 0 : rank[i + 1]
                while let next = x.levels[i].forward, ScoreList.precedes(next, score, member) {
                    rank[i] += x.levels[i].span
                    x = next
                }
                update[i] = x
                i -= 1
            }
            if height > level {
                for i in level..<height {
                    rank[i] = 0
                    update[i] = header
                    header.levels[i].span = count
                }
                level = height
            }
            let levels = node.levels
            for i in 0..<height {
                let u = update[i].levels
                levels[i].forward = u[i].forward
                u[i].forward = node
                levels[i].span = u[i].span - (rank[0] - rank[i])
                u[i].span = rank[0] - rank[i] + 1
            }
            // Links above the new node now skip one more element.
            for i in height..<level { update[i].levels[i].span += 1 }
            let previous = update[0]
            node.pointee.backward = previous == header ? nil : previous
            if let next = levels[0].forward { next.pointee.backward = node } else { tail = node }
            count += 1
        }
    }

    /// Unlinks `x` given the path to it (zslDeleteNode). The caller frees or
    /// relinks `x`; its own links are left as they were.
    private func unlink(_ x: NodeRef, _ update: UnsafeMutablePointer<NodeRef>) {
        let levels = x.levels
        for i in 0..<level {
            let u = update[i].levels
            if u[i].forward == x {
                u[i].span += levels[i].span - 1
                u[i].forward = levels[i].forward
            } else {
                u[i].span -= 1
            }
        }
        if let next = levels[0].forward { next.pointee.backward = x.pointee.backward } else { tail = x.pointee.backward }
        while level > 1 && header.levels[level - 1].forward == nil { level -= 1 }
        count -= 1
    }

    /// Fills the path to (score, member) and returns its node when present.
    private func find(_ score: Double, _ member: [UInt8], _ update: UnsafeMutablePointer<NodeRef>) -> NodeRef? {
        var x = header
        var i = level - 1
        while i >= 0 {
            while let next = x.levels[i].forward, ScoreList.precedes(next, score, member) { x = next }
            update[i] = x
            i -= 1
        }
        guard let found = x.levels[0].forward, found.pointee.score == score,
            ScoreList.compare(found.pointee.member, member) == 0 else { return nil }
        return found
    }

    /// Removes (score, member); returns whether it was there.
    @discardableResult
    public func remove(score: Double, member: [UInt8]) -> Bool {
        withPath { update, _ in
            guard let x = find(score, member, update) else { return false }
            unlink(x, update)
            ScoreList.free(x)
            return true
        }
    }

    /// Changes a present member's score. In place when the node still sorts
    /// between its neighbours (zslUpdateScore); otherwise the same node is
    /// unlinked and relinked at its old height, so no allocation either way.
    public func updateScore(member: [UInt8], from old: Double, to new: Double) {
        withPath { update, _ in
            guard let x = find(old, member, update) else {
                assertionFailure("updateScore: member not in the list")
                return
            }
            // Members are unique, so "next does not precede" means "next follows".
            if x.pointee.backward.map({ ScoreList.precedes($0, new, member) }) ?? true,
                x.levels[0].forward.map({ !ScoreList.precedes($0, new, member) }) ?? true {
                x.pointee.score = new
                return
            }
            unlink(x, update)
            x.pointee.score = new
            link(x, new, member)
        }
    }

    /// Removes elements with ranks start...end (inclusive, 0-based; clamped
    /// again here), calling `removed` for each in ascending order. Returns
    /// the number removed (zslDeleteRangeByRank).
    @discardableResult
    public func removeRanks(_ start: Int, _ end: Int, _ removed: (Double, [UInt8]) -> Void) -> Int {
        let start = Swift.max(start, 0)
        let end = Swift.min(end, count - 1)
        guard start <= end else { return 0 }
        return withPath { update, _ in
            var x = header
            var traversed = 0
            var i = level - 1
            while i >= 0 {
                while let next = x.levels[i].forward, traversed + x.levels[i].span <= start {
                    traversed += x.levels[i].span
                    x = next
                }
                update[i] = x
                i -= 1
            }
            var node = x.levels[0].forward
            var rank = start
            while let n = node, rank <= end {
                node = n.levels[0].forward
                unlink(n, update)
                removed(n.pointee.score, n.pointee.member)
                ScoreList.free(n)
                rank += 1
            }
            return rank - start
        }
    }

    public func removeAll() {
        unlinkAll()
        level = 1
        count = 0
        tail = nil
    }

    /// Frees every node front to back along level 0 and clears the header.
    private func unlinkAll() {
        var node = header.levels[0].forward
        for i in 0..<ScoreList.maxLevel { header.levels[i] = Level(forward: nil, span: 0) }
        while let n = node {
            node = n.levels[0].forward
            ScoreList.free(n)
        }
    }

    // MARK: Ranks

    /// 0-based rank of a present member (ascending order); nil when absent.
    public func rank(score: Double, member: [UInt8]) -> Int? {
        var x = header
        var traversed = 0
        var i = level - 1
        while i >= 0 {
            while let next = x.levels[i].forward, next.pointee.score < score
                || (next.pointee.score == score && ScoreList.compare(next.pointee.member, member) <= 0) {
                traversed += x.levels[i].span
                x = next
            }
            // x is the last node at or before the target (the header while
            // traversed is 0): it is the target when equal.
            if traversed > 0 && x.pointee.score == score && ScoreList.compare(x.pointee.member, member) == 0 {
                return traversed - 1
            }
            i -= 1
        }
        return nil
    }

    /// The node at a 0-based rank, which must be valid.
    private func node(atRank rank: Int) -> NodeRef {
        let target = rank + 1
        var x = header
        var traversed = 0
        var i = level - 1
        while i >= 0 {
            while let next = x.levels[i].forward, traversed + x.levels[i].span <= target {
                traversed += x.levels[i].span
                x = next
            }
            if traversed == target { return x }
            i -= 1
        }
        preconditionFailure("ScoreList spans are inconsistent")
    }

    /// The element at a 0-based rank, O(log n).
    public func element(atRank rank: Int) -> (score: Double, member: [UInt8])? {
        guard rank >= 0 && rank < count else { return nil }
        let x = node(atRank: rank)
        return (x.pointee.score, x.pointee.member)
    }

    public var first: (score: Double, member: [UInt8])? {
        header.levels[0].forward.map { ($0.pointee.score, $0.pointee.member) }
    }

    public var last: (score: Double, member: [UInt8])? {
        tail.map { ($0.pointee.score, $0.pointee.member) }
    }

    /// Visits elements from `fromRank` forward, or backward when `reverse`
    /// (then the rank counts from the end: 0 is the last element), while
    /// `body` returns true. Out-of-range ranks visit nothing. O(log n + visited).
    public func forEach(fromRank: Int, reverse: Bool, _ body: (Double, [UInt8]) -> Bool) {
        guard fromRank >= 0 && fromRank < count else { return }
        var node: NodeRef? = self.node(atRank: reverse ? count - 1 - fromRank : fromRank)
        while let n = node {
            guard body(n.pointee.score, n.pointee.member) else { return }
            node = reverse ? n.pointee.backward : n.levels[0].forward
        }
    }

    // MARK: Ranges

    /// A score range (ZRANGEBYSCORE); -inf/+inf are just infinite bounds.
    public struct ScoreRange: Sendable, Equatable {
        public var min: Double
        public var minExclusive: Bool
        public var max: Double
        public var maxExclusive: Bool

        public init(min: Double, minExclusive: Bool = false, max: Double, maxExclusive: Bool = false) {
            self.min = min
            self.minExclusive = minExclusive
            self.max = max
            self.maxExclusive = maxExclusive
        }

        /// No value can be in it (zslParseRange callers' check).
        public var isEmpty: Bool { min > max || (min == max && (minExclusive || maxExclusive)) }
        @inline(__always) public func atLeastMin(_ score: Double) -> Bool { minExclusive ? score > min : score >= min }
        @inline(__always) public func atMostMax(_ score: Double) -> Bool { maxExclusive ? score < max : score <= max }
    }

    /// A ZRANGEBYLEX bound: "-", "+", "[bytes" or "(bytes".
    public enum LexBound: Sendable, Equatable {
        case negativeInfinity, positiveInfinity, inclusive([UInt8]), exclusive([UInt8])
    }

    /// A member range; meaningful when all scores are equal (as in Redis,
    /// where other sets give unspecified results).
    public struct LexRange: Sendable, Equatable {
        public var min: LexBound
        public var max: LexBound

        public init(min: LexBound, max: LexBound) {
            self.min = min
            self.max = max
        }

        /// As Redis' sdscmplex check: the infinities act as exclusive bounds,
        /// so "+" as min or "-" as max is always empty.
        public var isEmpty: Bool {
            switch (min, max) {
            case (.positiveInfinity, _), (_, .negativeInfinity): return true
            case (.negativeInfinity, _), (_, .positiveInfinity): return false
            case let (.inclusive(a), .inclusive(b)): return ScoreList.compare(a, b) > 0
            case let (.inclusive(a), .exclusive(b)), let (.exclusive(a), .inclusive(b)), let (.exclusive(a), .exclusive(b)):
                return ScoreList.compare(a, b) >= 0
            }
        }

        @inline(__always) public func atLeastMin(_ member: [UInt8]) -> Bool {
            switch min {
            case .negativeInfinity: return true
            case .positiveInfinity: return false
            case .inclusive(let b): return ScoreList.compare(member, b) >= 0
            case .exclusive(let b): return ScoreList.compare(member, b) > 0
            }
        }

        @inline(__always) public func atMostMax(_ member: [UInt8]) -> Bool {
            switch max {
            case .negativeInfinity: return false
            case .positiveInfinity: return true
            case .inclusive(let b): return ScoreList.compare(member, b) <= 0
            case .exclusive(let b): return ScoreList.compare(member, b) < 0
            }
        }
    }

    /// Rank of the first node passing `atLeastMin`, if it also passes `atMostMax`.
    @inline(__always)
    private func firstRank(_ atLeastMin: (NodeRef) -> Bool, _ atMostMax: (NodeRef) -> Bool) -> Int? {
        var x = header
        var traversed = 0
        var i = level - 1
        while i >= 0 {
            while let next = x.levels[i].forward, !atLeastMin(next) {
                traversed += x.levels[i].span
                x = next
            }
            i -= 1
        }
        guard let first = x.levels[0].forward, atMostMax(first) else { return nil }
        return traversed
    }

    /// Rank of the last node passing `atMostMax`, if it also passes `atLeastMin`.
    @inline(__always)
    private func lastRank(_ atLeastMin: (NodeRef) -> Bool, _ atMostMax: (NodeRef) -> Bool) -> Int? {
        var x = header
        var traversed = 0
        var i = level - 1
        while i >= 0 {
            while let next = x.levels[i].forward, atMostMax(next) {
                traversed += x.levels[i].span
                x = next
            }
            i -= 1
        }
        guard traversed > 0, atLeastMin(x) else { return nil }
        return traversed - 1
    }

    /// Rank of the first element in range (ascending), or nil when none is.
    public func firstRank(in range: ScoreRange) -> Int? {
        guard !range.isEmpty else { return nil }
        return firstRank({ range.atLeastMin($0.pointee.score) }, { range.atMostMax($0.pointee.score) })
    }

    /// Rank of the last element in range (ascending), or nil when none is.
    public func lastRank(in range: ScoreRange) -> Int? {
        guard !range.isEmpty else { return nil }
        return lastRank({ range.atLeastMin($0.pointee.score) }, { range.atMostMax($0.pointee.score) })
    }

    public func firstRank(in range: LexRange) -> Int? {
        guard !range.isEmpty else { return nil }
        return firstRank({ range.atLeastMin($0.pointee.member) }, { range.atMostMax($0.pointee.member) })
    }

    public func lastRank(in range: LexRange) -> Int? {
        guard !range.isEmpty else { return nil }
        return lastRank({ range.atLeastMin($0.pointee.member) }, { range.atMostMax($0.pointee.member) })
    }

    /// Number of elements in range, from two descents (O(log n)).
    public func count(in range: ScoreRange) -> Int {
        guard let first = firstRank(in: range), let last = lastRank(in: range), last >= first else { return 0 }
        return last - first + 1
    }

    public func count(in range: LexRange) -> Int {
        guard let first = firstRank(in: range), let last = lastRank(in: range), last >= first else { return 0 }
        return last - first + 1
    }

    // MARK: Checks

    /// Whether the links are consistent: order, back links, tail, count,
    /// every span, and the header above `level` empty (for tests). O(n).
    func checkInvariants() -> Bool {
        var position: [NodeRef: Int] = [:]
        var previous: NodeRef? = nil
        var x = header
        while let n = x.levels[0].forward {
            if n.pointee.backward != previous { return false }
            if let p = previous, !ScoreList.precedes(p, n.pointee.score, n.pointee.member) { return false }
            position[n] = position.count + 1
            previous = n
            x = n
        }
        guard position.count == count, tail == previous else { return false }
        for i in 0..<level {
            var x = header
            var at = 0
            while let n = x.levels[i].forward {
                guard n.pointee.height > i, let to = position[n], to - at == x.levels[i].span else { return false }
                at = to
                x = n
            }
            if x.levels[i].span != count - at { return false }
        }
        if count > 0 && header.levels[level - 1].forward == nil { return false }
        return (level..<ScoreList.maxLevel).allSatisfy { header.levels[$0].forward == nil }
    }
}

extension UnsafeMutablePointer where Pointee == ScoreList.Node {
    /// The node's levels, stored right after it (see `ScoreList.makeNode`).
    @inline(__always) var levels: UnsafeMutablePointer<ScoreList.Level> {
        UnsafeMutableRawPointer(self + 1).assumingMemoryBound(to: ScoreList.Level.self)
    }
}
