/// Where a job is in its life. Every change goes through `canMove(to:)`,
/// so an impossible transition is a bug caught at once, not a silent state.
///
///     delayed ──due──► pending ──lease──► active ──ack──► completed
///        ▲  │             │  ▲               │ └─fail, retries left─► delayed
///        │  └─ttl/cancel─►│  └─disconnect────┘ └─fail, none left───► dead
///        │                └─ttl─► expired, cancel─► canceled
///        └──────────── retry/requeue (from any finished state) ◄─────┘
public enum JobState: String, Sendable, CaseIterable {
    case pending, delayed, active, completed, dead, expired, canceled

    /// True once the job will not run again by itself.
    public var isFinished: Bool {
        switch self {
        case .completed, .dead, .expired, .canceled: return true
        case .pending, .delayed, .active: return false
        }
    }

    public func canMove(to next: JobState) -> Bool {
        switch (self, next) {
        case (.pending, .active), (.pending, .expired), (.pending, .canceled), (.pending, .delayed):
            return true
        case (.delayed, .pending), (.delayed, .expired), (.delayed, .canceled):
            return true
        case (.active, .completed), (.active, .delayed), (.active, .dead), (.active, .pending), (.active, .canceled):
            return true
        case (.completed, .pending), (.dead, .pending), (.expired, .pending), (.canceled, .pending):
            return true
        default:
            return false
        }
    }
}

/// What `JOB.ADD` was told, with the server's defaults filled in.
public struct JobOptions: Equatable, Sendable {
    public var priority: Int?
    /// Retries after the first attempt (0: a failure is final).
    public var maxRetries = 0
    /// Retry delay base, cap and full jitter: min(max, base·2^(attempt-1)).
    public var backoff: Int64 = 0
    public var backoffMax: Int64 = 3_600_000
    public var jitter = false
    /// Lease length for each attempt, ms (0: the lease-timeout default or JOB.GET's LEASE).
    public var timeout: Int64 = 0
    /// A job not started within this many ms of its creation expires (0: never).
    public var ttl: Int64 = 0
    public var unique: [UInt8]?
    /// How long after it started the unique key stays held (0: while unfinished only).
    public var uniqueFor: Int64 = 0
    /// How long the result is kept after the job finishes (nil: result-ttl).
    public var resultTTL: Int64?

    public init() {}
}
