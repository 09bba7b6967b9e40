import Glibc

/// One node of a list: up to about 8 KiB of entries packed back to back in a
/// single malloc'd block, with free room kept at whichever end grows.
///
/// Entry layout: LEB128 length, the bytes, then the length again encoded to
/// be read backwards (low 7 bits last, high bit = "more bytes before"). A
/// 100-byte element costs 102 bytes, which is what keeps a queue of small
/// jobs close to Redis' listpack in memory.
///
/// A *tagged* entry (a job whose record exists in the job engine) carries
/// an 8-byte tag after its bytes and says so by writing both lengths one
/// byte longer than needed (an overlong LEB128, which the plain encoding
/// never produces), so untagged entries cost nothing extra.
final class PackedNode {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var capacity: Int
    /// Used bytes are [start, end).
    private(set) var start: Int
    private(set) var end: Int
    private(set) var count = 0

    /// Creates an empty node; free room is put at the front when it will grow at the front.
    init(capacity: Int, growsAtFront: Bool) {
        self.capacity = capacity
        base = malloc(capacity)!
        start = growsAtFront ? capacity : 0
        end = start
    }

    deinit { free(base) }

    var usedBytes: Int { end - start }

    // MARK: Encoding

    @inline(__always)
    static func varintSize(_ n: Int) -> Int {
        n < 1 << 7 ? 1 : n < 1 << 14 ? 2 : n < 1 << 21 ? 3 : n < 1 << 28 ? 4 : 5
    }

    @inline(__always)
    static func encodedSize(_ length: Int) -> Int { 2 * varintSize(length) + length }

    static let tagSize = 8

    @inline(__always)
    static func encodedSize(_ length: Int, tagged: Bool) -> Int {
        guard tagged else { return encodedSize(length) }
        let content = length + tagSize
        return 2 * (varintSize(content) + 1) + content
    }

    /// Writes one encoded entry at `p` (tagged when `tag` is not 0); returns its size.
    @inline(__always)
    static func writeEntry(_ bytes: UnsafeRawBufferPointer, tag: UInt64 = 0, at p: UnsafeMutableRawPointer) -> Int {
        let length = bytes.count + (tag == 0 ? 0 : tagSize)
        let lengthSize = varintSize(length) + (tag == 0 ? 0 : 1)
        var v = length
        for i in 0..<lengthSize {
            var byte = UInt8(v & 0x7F)
            v >>= 7
            if i < lengthSize - 1 { byte |= 0x80 }
            p.storeBytes(of: byte, toByteOffset: i, as: UInt8.self)
        }
        if bytes.count > 0 { (p + lengthSize).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
        if tag != 0 { (p + lengthSize + bytes.count).storeBytes(of: tag.littleEndian, as: UInt64.self) }
        // Backward length: group k (highest) first, group 0 last; flag = "more before me".
        let trailer = p + lengthSize + length
        for i in 0..<lengthSize {
            let group = lengthSize - 1 - i
            var byte = UInt8(group >= 9 ? 0 : (length >> (7 * group)) & 0x7F)
            if group < lengthSize - 1 { byte |= 0x80 }
            trailer.storeBytes(of: byte, toByteOffset: i, as: UInt8.self)
        }
        return 2 * lengthSize + length
    }

    /// The entry starting at `offset`: its bytes (without a tag) and where the next entry starts.
    @inline(__always)
    func entry(at offset: Int) -> (data: UnsafeRawBufferPointer, next: Int) {
        let (data, next, _) = taggedEntry(at: offset)
        return (data, next)
    }

    /// The entry starting at `offset` with its tag (0 when untagged).
    @inline(__always)
    func taggedEntry(at offset: Int) -> (data: UnsafeRawBufferPointer, next: Int, tag: UInt64) {
        var length = 0
        var shift = 0
        var i = offset
        while true {
            let byte = base.load(fromByteOffset: i, as: UInt8.self)
            length |= Int(byte & 0x7F) << shift
            i += 1
            if byte & 0x80 == 0 { break }
            shift += 7
        }
        let lengthSize = i - offset
        let next = i + length + lengthSize
        if lengthSize > PackedNode.varintSize(length) {
            let bytes = length - PackedNode.tagSize
            let tag = UInt64(littleEndian: (base + i + bytes).loadUnaligned(as: UInt64.self))
            return (UnsafeRawBufferPointer(start: base + i, count: bytes), next, tag)
        }
        return (UnsafeRawBufferPointer(start: base + i, count: length), next, 0)
    }

    /// The entry ending at `offset`: where it starts and its bytes (without a tag).
    @inline(__always)
    func entry(endingAt offset: Int) -> (start: Int, data: UnsafeRawBufferPointer) {
        let (start, data, _) = taggedEntry(endingAt: offset)
        return (start, data)
    }

    /// The entry ending at `offset` with its tag (0 when untagged).
    @inline(__always)
    func taggedEntry(endingAt offset: Int) -> (start: Int, data: UnsafeRawBufferPointer, tag: UInt64) {
        var length = 0
        var shift = 0
        var i = offset - 1
        while true {
            let byte = base.load(fromByteOffset: i, as: UInt8.self)
            length |= Int(byte & 0x7F) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
            i -= 1
        }
        let lengthSize = offset - i
        let dataStart = i - length
        if lengthSize > PackedNode.varintSize(length) {
            let bytes = length - PackedNode.tagSize
            let tag = UInt64(littleEndian: (base + dataStart + bytes).loadUnaligned(as: UInt64.self))
            return (dataStart - lengthSize, UnsafeRawBufferPointer(start: base + dataStart, count: bytes), tag)
        }
        return (dataStart - lengthSize, UnsafeRawBufferPointer(start: base + dataStart, count: length), 0)
    }

    // MARK: Ends

    func pushBack(_ bytes: UnsafeRawBufferPointer, tag: UInt64 = 0) {
        let size = PackedNode.encodedSize(bytes.count, tagged: tag != 0)
        if capacity - end < size { makeRoom(size, atFront: false) }
        end += PackedNode.writeEntry(bytes, tag: tag, at: base + end)
        count += 1
    }

    func pushFront(_ bytes: UnsafeRawBufferPointer, tag: UInt64 = 0) {
        let size = PackedNode.encodedSize(bytes.count, tagged: tag != 0)
        if start < size { makeRoom(size, atFront: true) }
        start -= size
        _ = PackedNode.writeEntry(bytes, tag: tag, at: base + start)
        count += 1
    }

    func removeFirst() {
        start = entry(at: start).next
        count -= 1
    }

    func removeLast() {
        end = entry(endingAt: end).start
        count -= 1
    }

    /// Grows or re-centres the block so that `size` more bytes fit at the given end.
    private func makeRoom(_ size: Int, atFront: Bool) {
        let used = usedBytes
        var newCapacity = capacity
        while newCapacity < used + size { newCapacity *= 2 }
        if newCapacity != capacity {
            let bigger = malloc(newCapacity)!
            let newStart = atFront ? newCapacity - used : 0
            if used > 0 { (bigger + newStart).copyMemory(from: base + start, byteCount: used) }
            free(base)
            base = bigger
            capacity = newCapacity
            start = newStart
            end = newStart + used
        } else {
            // Enough room in total: slide the data to the other end.
            let newStart = atFront ? capacity - used : 0
            memmove(base + newStart, base + start, used)
            start = newStart
            end = newStart + used
        }
    }

    // MARK: Middle

    /// Replaces the bytes [from, to) (whole entries) with one entry holding
    /// `bytes`, or with nothing when `bytes` is nil. `entryDelta` is the change
    /// in entry count the caller is making.
    func splice(from: Int, to: Int, inserting bytes: UnsafeRawBufferPointer?, tag: UInt64 = 0, entryDelta: Int) {
        let insertSize = bytes.map { PackedNode.encodedSize($0.count, tagged: tag != 0) } ?? 0
        let delta = insertSize - (to - from)
        let tail = end - to
        if delta > 0 && capacity - end < delta {
            var newCapacity = capacity
            while newCapacity - end < delta { newCapacity *= 2 }
            base = realloc(base, newCapacity)!
            capacity = newCapacity
        }
        if delta != 0 && tail > 0 { memmove(base + to + delta, base + to, tail) }
        if let bytes { _ = PackedNode.writeEntry(bytes, tag: tag, at: base + from) }
        end += delta
        count += entryDelta
    }

    /// Offsets of entries: calls `body(entryStart, data, entryEnd)` front to back until it returns false.
    @inline(__always)
    func forEachEntry(from offset: Int? = nil, _ body: (Int, UnsafeRawBufferPointer, Int) -> Bool) {
        var o = offset ?? start
        while o < end {
            let (data, next) = entry(at: o)
            if !body(o, data, next) { return }
            o = next
        }
    }

    /// Moves the entries from `offset` to the end into a new node (used to split big nodes).
    func splitOff(at offset: Int, entries: Int) -> PackedNode {
        let moved = end - offset
        var capacity = 64
        while capacity < moved { capacity *= 2 }
        let node = PackedNode(capacity: capacity, growsAtFront: false)
        if moved > 0 { node.base.copyMemory(from: base + offset, byteCount: moved) }
        node.end = moved
        node.count = entries
        end = offset
        count -= entries
        return node
    }
}
