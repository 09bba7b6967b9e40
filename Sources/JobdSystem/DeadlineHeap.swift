/// A min-heap of deadlines: blocked-client timeouts, and the job engine's
/// timeline (delays, leases, TTLs, cron). Cancelled entries are left in place and skipped when they
/// surface (the owner checks a serial number), which keeps removal O(1).
///
/// Inlinable so each module that uses it gets a version specialized for its
/// payload: unspecialized, every insert looked up generic metadata at run time.
public struct DeadlineHeap<Payload> {
    @usableFromInline var items: [(deadline: Int64, payload: Payload)] = []

    @inlinable public init() {}

    @inlinable public var isEmpty: Bool { items.isEmpty }
    @inlinable public var count: Int { items.count }
    @inlinable public var nextDeadline: Int64? { items.first?.deadline }

    @inlinable public mutating func insert(_ deadline: Int64, _ payload: Payload) {
        items.append((deadline, payload))
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if items[parent].deadline <= items[i].deadline { break }
            items.swapAt(parent, i)
            i = parent
        }
    }

    /// Removes and returns the earliest entry if its deadline is at or before `now`.
    @inlinable public mutating func popDue(_ now: Int64) -> Payload? {
        guard let first = items.first, first.deadline <= now else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let left = 2 * i + 1, right = left + 1
                var smallest = i
                if left < items.count && items[left].deadline < items[smallest].deadline { smallest = left }
                if right < items.count && items[right].deadline < items[smallest].deadline { smallest = right }
                if smallest == i { break }
                items.swapAt(i, smallest)
                i = smallest
            }
        }
        return first.payload
    }
}
extension DeadlineHeap: Sendable where Payload: Sendable {}
