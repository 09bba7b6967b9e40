import Glibc

/// Byte-string members with a payload each: hash fields and their values,
/// set members, sorted-set members and their scores.
///
/// Members live in slots (parallel arrays, no object per member) and
/// chains of slot numbers hang off a power-of-two bucket array, so a lookup
/// with a borrowed buffer allocates nothing, and SCAN's reverse-binary
/// cursor keeps its promise across resizes (a member only ever lives in
/// the bucket its hash selects, as in KeyTable). Freed slots are reused,
/// and the slots are compacted when mostly free so that a random slot is
/// usually a member (HRANDFIELD, SPOP, SRANDMEMBER).
///
/// A class rather than a struct: a struct stored in a class property is
/// copied (six retains) on every read through the property, which was the
/// largest cost of ZADD in callgrind.
public final class MemberTable<Payload> {
    public private(set) var members: ContiguousArray<[UInt8]> = []
    public private(set) var payloads: ContiguousArray<Payload> = []
    private var hashes: ContiguousArray<UInt64> = []
    /// The next slot in the same bucket, -1 at the end of a chain, `free` for an unused slot.
    private var next: ContiguousArray<Int32> = []
    private var buckets: ContiguousArray<Int32>
    private var freeSlots: [Int32] = []
    /// Written over the payload of a freed slot, so that it holds no memory.
    private let emptyPayload: Payload
    public private(set) var count = 0

    private static var free: Int32 { -2 }
    private static var minimumBuckets: Int { 8 }

    public init(empty: Payload) {
        emptyPayload = empty
        buckets = ContiguousArray(repeating: -1, count: MemberTable.minimumBuckets)
    }

    @inline(__always) private var mask: Int { buckets.count - 1 }
    /// One past the highest slot in use; slots below it may be free.
    public var slotCount: Int { members.count }
    @inline(__always) public func isUsed(_ slot: Int) -> Bool { next[slot] != MemberTable.free }

    // MARK: Lookup

    /// The slot holding `member`, or nil.
    @inline(__always)
    public func find(_ member: UnsafeRawBufferPointer) -> Int? {
        find(member, hash: ByteHash.hash(member))
    }

    @inline(__always)
    func find(_ member: UnsafeRawBufferPointer, hash: UInt64) -> Int? {
        var slot = buckets[Int(truncatingIfNeeded: hash) & mask]
        while slot >= 0 {
            let s = Int(slot)
            if hashes[s] == hash && bytesEqual(members[s], member) { return s }
            slot = next[s]
        }
        return nil
    }

    public func find(_ member: [UInt8]) -> Int? { member.withUnsafeBytes { find($0) } }

    public subscript(slot: Int) -> Payload {
        get { payloads[slot] }
        set { payloads[slot] = newValue }
    }

    // MARK: Changes

    /// Adds a member that is not in the table; returns its slot.
    @discardableResult
    public func insert(_ member: [UInt8], _ payload: Payload) -> Int {
        insert(member, payload, hash: member.withUnsafeBytes { ByteHash.hash($0) })
    }

    /// As `insert(_:_:)`, with the member's hash already computed by a failed `find`.
    @discardableResult
    func insert(_ member: [UInt8], _ payload: Payload, hash: UInt64) -> Int {
        if count >= buckets.count { rehash(bucketCount: buckets.count * 2) }
        let slot: Int
        if let reused = freeSlots.popLast() {
            slot = Int(reused)
            members[slot] = member
            payloads[slot] = payload
            hashes[slot] = hash
        } else {
            slot = members.count
            members.append(member)
            payloads.append(payload)
            hashes.append(hash)
            next.append(-1)
        }
        let bucket = Int(truncatingIfNeeded: hash) & mask
        next[slot] = buckets[bucket]
        buckets[bucket] = Int32(slot)
        count += 1
        return slot
    }

    /// Sets `member`'s payload, adding it when absent; returns true when it was added.
    @discardableResult
    public func set(_ member: UnsafeRawBufferPointer, _ payload: Payload) -> Bool {
        if let slot = find(member) {
            payloads[slot] = payload
            return false
        }
        insert(Array(member), payload)
        return true
    }

    /// Removes the member in `slot`; returns its payload.
    @discardableResult
    public func remove(slot: Int) -> Payload {
        let bucket = Int(truncatingIfNeeded: hashes[slot]) & mask
        if buckets[bucket] == Int32(slot) {
            buckets[bucket] = next[slot]
        } else {
            var previous = Int(buckets[bucket])
            while next[previous] != Int32(slot) { previous = Int(next[previous]) }
            next[previous] = next[slot]
        }
        let payload = payloads[slot]
        next[slot] = MemberTable.free
        members[slot] = []
        payloads[slot] = emptyPayload
        freeSlots.append(Int32(slot))
        count -= 1
        if count == 0 {
            removeAll()
        } else if members.count > 64 && count * 4 < members.count {
            compact()
        } else if buckets.count > MemberTable.minimumBuckets && count * 8 < buckets.count {
            rehash(bucketCount: bucketCount(for: count))
        }
        return payload
    }

    /// Removes `member` if present; returns its payload.
    @discardableResult
    public func remove(_ member: UnsafeRawBufferPointer) -> Payload? {
        guard let slot = find(member) else { return nil }
        return remove(slot: slot)
    }

    public func removeAll() {
        members = []
        payloads = []
        hashes = []
        next = []
        freeSlots = []
        buckets = ContiguousArray(repeating: -1, count: MemberTable.minimumBuckets)
        count = 0
    }

    /// An independent copy (COPY).
    public func copy() -> MemberTable<Payload> {
        let copy = MemberTable(empty: emptyPayload)
        copy.members = members
        copy.payloads = payloads
        copy.hashes = hashes
        copy.next = next
        copy.buckets = buckets
        copy.freeSlots = freeSlots
        copy.count = count
        return copy
    }

    private func bucketCount(for n: Int) -> Int {
        var size = MemberTable.minimumBuckets
        while size < n { size *= 2 }
        return size
    }

    private func rehash(bucketCount size: Int) {
        buckets = ContiguousArray(repeating: -1, count: size)
        let m = size - 1
        for slot in 0..<members.count where next[slot] != MemberTable.free {
            let bucket = Int(truncatingIfNeeded: hashes[slot]) & m
            next[slot] = buckets[bucket]
            buckets[bucket] = Int32(slot)
        }
    }

    /// Moves the members into the lowest slots (order kept) and rebuilds the chains.
    private func compact() {
        var write = 0
        for read in 0..<members.count where next[read] != MemberTable.free {
            if read != write {
                members.swapAt(read, write)
                payloads.swapAt(read, write)
                hashes[write] = hashes[read]
            }
            next[write] = -1
            write += 1
        }
        members.removeLast(members.count - write)
        payloads.removeLast(payloads.count - write)
        hashes.removeLast(hashes.count - write)
        next.removeLast(next.count - write)
        freeSlots.removeAll()
        rehash(bucketCount: bucketCount(for: count))
    }

    // MARK: Enumeration

    /// Every member in slot order (insertion order until members are removed).
    public func forEach(_ body: (_ member: [UInt8], _ payload: Payload) -> Void) {
        for slot in 0..<members.count where next[slot] != MemberTable.free { body(members[slot], payloads[slot]) }
    }

    /// A random used slot; the table must not be empty.
    public func randomSlot<R: RandomNumberGenerator>(using rng: inout R) -> Int {
        precondition(count > 0)
        while true {
            let slot = Int.random(in: 0..<members.count, using: &rng)
            if next[slot] != MemberTable.free { return slot }
        }
    }

    /// Visits buckets from `cursor` in reverse-binary order until at least
    /// `atLeast` members were seen (or 10× as many buckets visited); returns
    /// the next cursor, 0 when the scan is complete.
    public func scan(cursor: UInt64, atLeast: Int, _ body: (Int) -> Void) -> UInt64 {
        var v = cursor
        let m = UInt64(mask)
        var seen = 0
        var visited = 0
        let maxBuckets = atLeast > Int.max / 10 ? Int.max : atLeast * 10
        repeat {
            var slot = buckets[Int(v & m)]
            while slot >= 0 {
                body(Int(slot))
                seen += 1
                slot = next[Int(slot)]
            }
            v |= ~m
            v = v.bitSwapped
            v &+= 1
            v = v.bitSwapped
            visited += 1
        } while v != 0 && seen < atLeast && visited < maxBuckets
        return v
    }
}
