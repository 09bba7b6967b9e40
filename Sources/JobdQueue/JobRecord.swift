/// A job the engine knows in full. A job pushed with a plain `LPUSH` has
/// no record until it is leased; from then on (or from `JOB.ADD`) the
/// record holds its options, history and, once it has left the list, its
/// payload. `handle` is the tag its list element carries.
public final class JobRecord {
    public let handle: UInt64
    /// The id given with JOB.ADD ID; nil when the id is the handle in decimal
    /// (most jobs: then no id bytes are stored or indexed).
    public let customID: [UInt8]?
    /// Created when a plainly pushed job was leased: nobody was ever given
    /// its id, so once completed without a result it is forgotten at once.
    public internal(set) var fromPlainPush = false
    public internal(set) var database: Int
    public internal(set) var queue: [UInt8]
    public internal(set) var state: JobState
    public internal(set) var priority: Int
    public internal(set) var options: JobOptions
    /// Nil while the job waits in its list (the element holds the bytes).
    public internal(set) var payload: [UInt8]?
    public internal(set) var attempts = 0
    public internal(set) var createdAt: Int64
    /// When it became (or becomes) ready to run.
    public internal(set) var scheduledAt: Int64
    public internal(set) var startedAt: Int64 = 0
    public internal(set) var finishedAt: Int64 = 0
    public internal(set) var leaseDeadline: Int64 = 0
    /// The client id holding the lease (0: none).
    public internal(set) var leaseHolder: Int64 = 0
    /// The last errors, oldest first (at most `JobRecord.errorHistory`).
    public internal(set) var errors: [[UInt8]] = []
    public internal(set) var result: [UInt8]?
    /// When a finished job's record (and result) is forgotten (0: kept).
    public internal(set) var forgetAt: Int64 = 0

    public static let errorHistory = 5

    init(handle: UInt64, customID: [UInt8]?, database: Int, queue: [UInt8], state: JobState, priority: Int,
         options: JobOptions, createdAt: Int64, scheduledAt: Int64) {
        self.handle = handle
        self.customID = customID
        self.database = database
        self.queue = queue
        self.state = state
        self.priority = priority
        self.options = options
        self.createdAt = createdAt
        self.scheduledAt = scheduledAt
    }

    /// The job's id: its custom id, or its handle in decimal.
    public var id: [UInt8] { customID ?? JobRecord.decimalID(handle) }

    /// The handle in decimal, written straight into one array (no String on the lease path).
    public static func decimalID(_ handle: UInt64) -> [UInt8] {
        var rest = handle, digits = 1
        while rest >= 10 { rest /= 10; digits += 1 }
        return [UInt8](unsafeUninitializedCapacity: digits) { buffer, initialized in
            var value = handle
            for i in stride(from: digits - 1, through: 0, by: -1) {
                buffer[i] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value % 10)
                value /= 10
            }
            initialized = digits
        }
    }

    /// `id` as a custom id: nil when it is just the handle in decimal.
    static func customID(_ id: [UInt8], handle: UInt64) -> [UInt8]? { id == decimalID(handle) ? nil : id }

    /// The TTL deadline while the job has not started (0: none).
    public var expiresAt: Int64 {
        options.ttl > 0 && startedAt == 0 ? createdAt + options.ttl : 0
    }

    func move(to next: JobState) {
        precondition(state.canMove(to: next), "job \(handle): \(state) -> \(next) is not a transition")
        state = next
    }

    func recordError(_ error: [UInt8]) {
        errors.append(error)
        if errors.count > JobRecord.errorHistory { errors.removeFirst(errors.count - JobRecord.errorHistory) }
    }

}
