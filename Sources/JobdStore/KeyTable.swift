/// A chained hash table of `KeyEntry` with a power-of-two bucket count.
///
/// Chaining (rather than open addressing) is what lets SCAN's reverse-binary
/// cursor promise that every key present for the whole scan is returned even
/// when the table grows or shrinks between calls: an entry only ever lives
/// in the bucket its hash selects. Resizing is done at once; growth doubles,
/// shrinking happens below 1/8 full.
final class KeyTable {
    private(set) var buckets: ContiguousArray<KeyEntry?>
    private(set) var count = 0
    private static let minimumSize = 16

    init() { buckets = ContiguousArray(repeating: nil, count: KeyTable.minimumSize) }

    @inline(__always) private var mask: Int { buckets.count - 1 }
    var size: Int { buckets.count }

    @inline(__always)
    func find(_ key: UnsafeRawBufferPointer, hash: UInt64) -> KeyEntry? {
        var entry = buckets[Int(truncatingIfNeeded: hash) & mask]
        while let candidate = entry {
            if candidate.hash == hash && bytesEqual(candidate.key, key) { return candidate }
            entry = candidate.next
        }
        return nil
    }

    /// Adds an entry whose key is not in the table.
    func insert(_ entry: KeyEntry) {
        if count >= buckets.count { resize(to: buckets.count * 2) }
        let slot = Int(truncatingIfNeeded: entry.hash) & mask
        entry.next = buckets[slot]
        buckets[slot] = entry
        count += 1
    }

    /// Removes an entry that is in the table.
    func remove(_ entry: KeyEntry) {
        let slot = Int(truncatingIfNeeded: entry.hash) & mask
        if buckets[slot] === entry {
            buckets[slot] = entry.next
        } else {
            var previous = buckets[slot]
            while let p = previous, p.next !== entry { previous = p.next }
            previous?.next = entry.next
        }
        entry.next = nil
        count -= 1
        if buckets.count > KeyTable.minimumSize && count * 8 < buckets.count {
            var newSize = KeyTable.minimumSize
            while newSize < count * 2 { newSize *= 2 }
            resize(to: newSize)
        }
    }

    func removeAll() {
        // Unlink chains iteratively so that releasing a long chain cannot recurse deeply.
        for i in 0..<buckets.count {
            var entry = buckets[i]
            while let e = entry { entry = e.next; e.next = nil }
        }
        buckets = ContiguousArray(repeating: nil, count: KeyTable.minimumSize)
        count = 0
    }

    private func resize(to newSize: Int) {
        var newBuckets = ContiguousArray<KeyEntry?>(repeating: nil, count: newSize)
        let newMask = newSize - 1
        for i in 0..<buckets.count {
            var entry = buckets[i]
            while let e = entry {
                entry = e.next
                let slot = Int(truncatingIfNeeded: e.hash) & newMask
                e.next = newBuckets[slot]
                newBuckets[slot] = e
            }
        }
        buckets = newBuckets
    }

    func swapContents(with other: KeyTable) {
        swap(&buckets, &other.buckets)
        swap(&count, &other.count)
    }

    func forEach(_ body: (KeyEntry) -> Void) {
        for i in 0..<buckets.count {
            var entry = buckets[i]
            while let e = entry {
                entry = e.next
                body(e)
            }
        }
    }

    /// Visits buckets from `cursor` in reverse-binary order until `body` has
    /// seen at least `atLeast` entries (or `maxBuckets` buckets); returns the
    /// next cursor, 0 when the scan is complete.
    func scan(cursor: UInt64, atLeast: Int, maxBuckets: Int, _ body: (KeyEntry) -> Void) -> UInt64 {
        var v = cursor
        let m = UInt64(mask)
        var seen = 0
        var visited = 0
        repeat {
            var entry = buckets[Int(v & m)]
            while let e = entry {
                entry = e.next
                body(e)
                seen += 1
            }
            // Increment the reversed cursor: set the unmasked bits, reverse, add one, reverse back.
            v |= ~m
            v = v.bitSwapped
            v &+= 1
            v = v.bitSwapped
            visited += 1
        } while v != 0 && seen < atLeast && visited < maxBuckets
        return v
    }

    /// A random entry (nil when empty): a random non-empty bucket, then a random chain member.
    func randomEntry<R: RandomNumberGenerator>(using rng: inout R) -> KeyEntry? {
        guard count > 0 else { return nil }
        while true {
            guard let head = buckets[Int.random(in: 0..<buckets.count, using: &rng)] else { continue }
            var length = 0
            var entry: KeyEntry? = head
            while let e = entry { length += 1; entry = e.next }
            var pick = Int.random(in: 0..<length, using: &rng)
            entry = head
            while pick > 0 { entry = entry!.next; pick -= 1 }
            return entry
        }
    }
}

extension UInt64 {
    /// The bits in reverse order (bit 0 becomes bit 63).
    @inline(__always)
    var bitSwapped: UInt64 {
        var v = self
        v = ((v >> 1) & 0x5555_5555_5555_5555) | ((v & 0x5555_5555_5555_5555) << 1)
        v = ((v >> 2) & 0x3333_3333_3333_3333) | ((v & 0x3333_3333_3333_3333) << 2)
        v = ((v >> 4) & 0x0F0F_0F0F_0F0F_0F0F) | ((v & 0x0F0F_0F0F_0F0F_0F0F) << 4)
        return v.byteSwapped
    }
}
