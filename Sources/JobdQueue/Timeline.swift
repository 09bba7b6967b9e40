import JobdSystem

/// Every job deadline in one min-heap: delayed jobs and retries coming
/// due, lease ends, TTLs, forgetting finished jobs, cron firings, queues
/// waiting for a rate-limit token. Entries
/// are never removed early: when one comes due the engine checks that the
/// job still has that deadline (a cheap lazy delete), so rescheduling is
/// just another push.
public struct Timeline: Sendable {
    public enum Kind: UInt8, Sendable { case due, leaseEnd, ttl, forget, cron, flow }

    public struct Entry: Sendable, Equatable {
        public let at: Int64
        public let kind: Kind
        /// A job handle, a cron entry number, or a queue's serial (flow).
        public let subject: UInt64
    }

    private var heap = DeadlineHeap<Entry>()

    public init() {}

    public var count: Int { heap.count }
    public var nextDeadline: Int64? { heap.nextDeadline }

    public mutating func schedule(_ kind: Kind, _ subject: UInt64, at: Int64) {
        heap.insert(at, Entry(at: at, kind: kind, subject: subject))
    }

    /// Removes and returns the earliest entry due at `now`, if any.
    public mutating func popDue(_ now: Int64) -> Entry? { heap.popDue(now) }
}
