/// A stream entry ID: milliseconds and a sequence number, ordered as a pair.
public struct StreamID: Comparable, Hashable, Sendable {
    public var ms: UInt64
    public var seq: UInt64

    public init(_ ms: UInt64, _ seq: UInt64) {
        self.ms = ms
        self.seq = seq
    }

    public static let zero = StreamID(0, 0)
    public static let max = StreamID(UInt64.max, UInt64.max)

    public static func < (a: StreamID, b: StreamID) -> Bool { a.ms != b.ms ? a.ms < b.ms : a.seq < b.seq }

    /// The next ID after this one, or nil at the very end.
    public var successor: StreamID? {
        if seq < UInt64.max { return StreamID(ms, seq + 1) }
        if ms < UInt64.max { return StreamID(ms + 1, 0) }
        return nil
    }

    /// The ID before this one, or nil for 0-0.
    public var predecessor: StreamID? {
        if seq > 0 { return StreamID(ms, seq - 1) }
        if ms > 0 { return StreamID(ms - 1, UInt64.max) }
        return nil
    }

    public var text: String { "\(ms)-\(seq)" }
}

/// One entry: its ID and its field/value pairs, flattened.
public struct StreamEntry {
    public let id: StreamID
    public let fieldsAndValues: [[UInt8]]
}

/// An append-only log of entries in ID order (the subset of Redis streams
/// that queue clients use: XADD, ranges, XREAD, XDEL, trimming).
///
/// Entries live in an array with a moving head, so trimming from the
/// front (MAXLEN/MINID, the common case) is amortized O(1) and a range
/// starts with a binary search. XDEL in the middle moves the tail; streams
/// used as queues delete from the front.
public final class StreamValue {
    private var entries: [StreamEntry] = []
    private var head = 0
    /// The greatest ID ever added (IDs never go back, even after deletes).
    public internal(set) var lastID = StreamID.zero
    public internal(set) var entriesAdded: UInt64 = 0
    public internal(set) var maxDeletedID = StreamID.zero

    public init() {}

    /// An independent copy (COPY).
    public func copy() -> StreamValue {
        let copy = StreamValue()
        copy.entries = Array(entries[head...])
        copy.lastID = lastID
        copy.entriesAdded = entriesAdded
        copy.maxDeletedID = maxDeletedID
        return copy
    }

    public var count: Int { entries.count - head }
    public var isEmpty: Bool { count == 0 }
    public var first: StreamEntry? { isEmpty ? nil : entries[head] }
    public var last: StreamEntry? { isEmpty ? nil : entries[entries.count - 1] }

    /// Appends an entry whose ID is greater than `lastID` (callers check).
    public func append(_ id: StreamID, _ fieldsAndValues: [[UInt8]]) {
        precondition(id > lastID)
        entries.append(StreamEntry(id: id, fieldsAndValues: fieldsAndValues))
        lastID = id
        entriesAdded += 1
    }

    /// XSETID: sets the bookkeeping a rewritten log must keep (IDs never go back).
    public func restore(lastID id: StreamID, entriesAdded added: UInt64?, maxDeletedID deleted: StreamID?) {
        lastID = id
        if let added { entriesAdded = added }
        if let deleted { maxDeletedID = deleted }
    }

    /// Position (absolute index) of the first entry with ID ≥ `id`.
    private func lowerBound(_ id: StreamID) -> Int {
        var low = head, high = entries.count
        while low < high {
            let mid = (low + high) / 2
            if entries[mid].id < id { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// Entries with start ≤ ID ≤ end, ascending (or descending when `reverse`), at most `limit` (0 = all).
    public func range(from start: StreamID, to end: StreamID, reverse: Bool = false, limit: Int = 0,
                      _ body: (StreamEntry) -> Void) {
        guard start <= end, !isEmpty else { return }
        var emitted = 0
        if reverse {
            var i = lowerBound(end)
            if i < entries.count && entries[i].id == end { i += 1 }
            i -= 1
            while i >= head && entries[i].id >= start && (limit == 0 || emitted < limit) {
                body(entries[i])
                emitted += 1
                i -= 1
            }
        } else {
            var i = lowerBound(start)
            while i < entries.count && entries[i].id <= end && (limit == 0 || emitted < limit) {
                body(entries[i])
                emitted += 1
                i += 1
            }
        }
    }

    /// Whether an entry with ID greater than `id` exists.
    public func hasEntries(after id: StreamID) -> Bool { lastEntryID.map { $0 > id } ?? false }

    public var lastEntryID: StreamID? { last?.id }

    /// Deletes the entry with `id`; returns whether it existed.
    public func delete(_ id: StreamID) -> Bool {
        let i = lowerBound(id)
        guard i < entries.count, entries[i].id == id else { return false }
        if i == head { dropHead(1) } else { entries.remove(at: i) }
        if id > maxDeletedID { maxDeletedID = id }
        return true
    }

    /// Keeps at most `maxLength` entries; returns how many were removed (at most `limit` when > 0).
    public func trim(maxLength: Int, limit: Int = 0) -> Int {
        var n = Swift.max(0, count - maxLength)
        if limit > 0 { n = Swift.min(n, limit) }
        return removeFront(n)
    }

    /// Removes entries with IDs below `minID`; returns how many (at most `limit` when > 0).
    public func trim(minID: StreamID, limit: Int = 0) -> Int {
        var n = lowerBound(minID) - head
        if limit > 0 { n = Swift.min(n, limit) }
        return removeFront(n)
    }

    private func removeFront(_ n: Int) -> Int {
        guard n > 0 else { return 0 }
        let removedLast = entries[head + n - 1].id
        if removedLast > maxDeletedID { maxDeletedID = removedLast }
        dropHead(n)
        return n
    }

    private func dropHead(_ n: Int) {
        head += n
        if head == entries.count {
            entries.removeAll()
            head = 0
        } else if head > 64 && head * 2 > entries.count {
            entries.removeFirst(head)
            head = 0
        }
    }
}
