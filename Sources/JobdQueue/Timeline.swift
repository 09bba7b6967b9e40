/// Every job deadline in one min-heap: delayed jobs and retries coming
/// due, lease ends, TTLs, forgetting finished jobs, cron firings. Entries
/// are never removed early: when one comes due the engine checks that the
/// job still has that deadline (a cheap lazy delete), so rescheduling is
/// just another push.
public struct Timeline: Sendable {
    public enum Kind: UInt8, Sendable { case due, leaseEnd, ttl, forget, cron }

    public struct Entry: Sendable, Equatable {
        public let at: Int64
        public let kind: Kind
        /// A job handle, or a cron entry number.
        public let subject: UInt64
    }

    private var heap: [Entry] = []

    public init() {}

    public var count: Int { heap.count }
    public var nextDeadline: Int64? { heap.first?.at }

    public mutating func schedule(_ kind: Kind, _ subject: UInt64, at: Int64) {
        heap.append(Entry(at: at, kind: kind, subject: subject))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].at < heap[parent].at else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest entry due at `now`, if any.
    public mutating func popDue(_ now: Int64) -> Entry? {
        guard let first = heap.first, first.at <= now else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < heap.count && heap[left].at < heap[smallest].at { smallest = left }
                if right < heap.count && heap[right].at < heap[smallest].at { smallest = right }
                if smallest == parent { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first
    }

    public mutating func removeAll() { heap.removeAll() }
}
