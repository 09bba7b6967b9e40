/// A sorted set: a member → score table for O(1) lookups, and a skip list
/// ordered by (score, member) for ranks and ranges in O(log n), as Redis'
/// zset. Both hold the same member arrays (shared copy-on-write storage).
public final class SortedSetValue {
    public let scores = MemberTable<Double>(empty: 0)
    public let order = ScoreList()

    /// Whether Redis 7.0 would still hold this set as a listpack: it converts
    /// to a skip list past 128 members or a member over 64 bytes, and never
    /// back. It shows in OBJECT ENCODING and in one reply detail (-0 scores).
    public private(set) var isPacked = true

    public init() {}

    public var count: Int { scores.count }
    public var isEmpty: Bool { scores.count == 0 }

    @inline(__always)
    public func score(_ member: UnsafeRawBufferPointer) -> Double? {
        scores.find(member).map { scores[$0] }
    }

    /// Sets `member`'s score, adding it when absent; returns true when it was added.
    @discardableResult
    public func set(_ member: UnsafeRawBufferPointer, score requested: Double) -> Bool {
        let hash = ByteHash.hash(member)
        let slot = scores.find(member, hash: hash)
        // Redis converts before it inserts, so the new element is already in the skip list.
        if slot == nil && isPacked && (member.count > 64 || scores.count >= 128) { isPacked = false }
        // A listpack stores -0 as "0"; a skip list keeps the double as it is.
        let score = isPacked ? requested + 0.0 : requested
        if let slot {
            let old = scores[slot]
            if old != score {  // -0 and 0 are the same score, as in Redis
                order.updateScore(member: scores.members[slot], from: old, to: score)
                scores[slot] = score
            }
            return false
        }
        let bytes = Array(member)
        scores.insert(bytes, score, hash: hash)
        order.insert(score: score, member: bytes)
        return true
    }

    /// Removes `member`; returns whether it was there.
    @discardableResult
    public func remove(_ member: UnsafeRawBufferPointer) -> Bool {
        guard let slot = scores.find(member) else { return false }
        order.remove(score: scores[slot], member: scores.members[slot])
        scores.remove(slot: slot)
        return true
    }

    /// Removes the elements with ranks start...end (clamped by the caller); calls `body` for each.
    @discardableResult
    public func removeRanks(_ start: Int, _ end: Int, _ body: (Double, [UInt8]) -> Void = { _, _ in }) -> Int {
        order.removeRanks(start, end) { score, member in
            member.withUnsafeBytes { _ = scores.remove($0) }
            body(score, member)
        }
    }

    /// Every element in ascending order.
    public func forEach(_ body: (Double, [UInt8]) -> Void) {
        order.forEach(fromRank: 0, reverse: false) { score, member in body(score, member); return true }
    }

    /// An independent copy (COPY).
    public func copy() -> SortedSetValue {
        let copy = SortedSetValue()
        forEach { score, member in member.withUnsafeBytes { _ = copy.set($0, score: score) } }
        return copy
    }

    /// OBJECT ENCODING's answer.
    public func isSmall() -> Bool { isPacked }
}
