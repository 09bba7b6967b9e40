import JobdRESP
import JobdStore
import JobdSystem

/// An error reply for a job command, with its Redis-style prefix.
public struct JobError: Error, Equatable, Sendable {
    public let text: String
    public init(_ text: String) { self.text = text }
}

/// Server settings the engine reads (config directives).
public struct JobSettings: Sendable {
    /// Lease length when neither JOB.GET LEASE nor the job's TIMEOUT says (lease-timeout).
    public var leaseTimeout: Int64 = 30_000
    /// How long results and finished records are kept (result-ttl).
    public var resultTTL: Int64 = 3_600_000
    /// A waiting job counts one level more urgent per this many ms (priority-aging; 0: off).
    public var priorityAging: Int64 = 0
    public init() {}
}

/// The job engine: every job record, every queue's state and the
/// timeline, on the engine thread. Pending jobs live in their queue's
/// list (tagged with their record's handle when they have one); the
/// engine moves them between the list and its tables.
///
/// Each change is reported through `onRecord` as a `JOBD ...` log record
/// (JobLogRecords.swift); replaying those records calls the same `apply`
/// functions, so a restart rebuilds the same state. Time is always passed
/// in, never read, so tests drive the engine with a fake clock.
public final class JobEngine {
    public let keyspace: Keyspace
    public var settings = JobSettings()
    public internal(set) var records: [UInt64: JobRecord] = [:]
    var handlesByID: [[UInt8]: UInt64] = [:]
    var uniqueHolders: [UniqueKey: UInt64] = [:]
    public internal(set) var queues: [QueueKey: QueueState] = [:]
    var leasesByHolder: [Int64: Set<UInt64>] = [:]
    public internal(set) var timeline = Timeline()
    var nextHandle: UInt64 = 1
    var nextQueueSerial: UInt64 = 0
    /// Queues waiting for a token, by serial, until their timeline wake comes (JobEngine+Flow.swift).
    var flowWakes: [UInt64: QueueState] = [:]
    /// Queue states made by plain pushes, for the sweep that lets unused ones go (JobEngine+QueueLifetime.swift).
    var plainQueues: [QueueState] = []
    var plainSweepCursor = 0
    /// The queue state last looked up (cleared whenever queue states are removed).
    var recentQueue: QueueState?
    var random: any RandomNumberGenerator = SystemRandomNumberGenerator()
    public internal(set) var totals = Totals()
    /// Finished records waiting out their result TTL, oldest first: what
    /// maxmemory may evict (JobEngine+Memory.swift). Holds stale handles too.
    var keptRecords = RingDeque<UInt64>()
    /// Records forgotten early to stay under maxmemory.
    public internal(set) var evictedRecords = 0

    /// A change to log: the database and a function that encodes the `JOBD`
    /// record (called only when something is logged).
    public var onRecord: ((Int, (CommandEncoder) -> Void) -> Void)?
    /// A queue may have a job to lease now (wakes blocked JOB.GETs).
    public var onReady: ((QueueKey) -> Void)?
    /// A job finished (completed, dead, expired, canceled): wakes JOB.RESULT WAIT.
    public var onFinished: ((JobRecord) -> Void)?
    /// In-process worker pools (WorkerPool.swift), in config order.
    public internal(set) var pools: [WorkerPool] = []
    /// Pools started so far: each pool's lease holder id is unique for the
    /// process's life, also after pools are removed (a reload).
    var poolsStarted = 0
    /// Cron entries (CronTable.swift).
    public internal(set) var cron = CronTable()

    struct UniqueKey: Hashable {
        let database: Int
        let key: [UInt8]

        func hash(into hasher: inout Hasher) {
            hasher.combine(database)
            key.withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }

    public struct Totals: Sendable {
        public var added = 0, leased = 0, completed = 0, failed = 0, retried = 0, dead = 0, expired = 0, canceled = 0
    }

    public init(keyspace: Keyspace) { self.keyspace = keyspace }

    /// Uses `generator` for jitter (tests pass a seeded one).
    public func useRandom(_ generator: some RandomNumberGenerator) { random = generator }

    // MARK: Lookups

    /// The job with this id: a custom id, or a handle in decimal (which may
    /// be a plainly pushed job running in a worker, given a record now).
    public func job(_ id: [UInt8]) -> JobRecord? { id.withUnsafeBytes { job(bytes: $0) } }

    public func job(bytes id: UnsafeRawBufferPointer) -> JobRecord? {
        if !handlesByID.isEmpty, let handle = handlesByID[Array(id)] { return records[handle] }
        guard let handle = JobEngine.handle(decimal: id) else { return nil }
        if let record = records[handle] { return record.customID == nil ? record : nil }
        return recordForRunningPlainJob(handle)
    }

    /// The handle an id in canonical decimal names (no sign, no leading zero), else nil.
    /// Numbers.parseInt64 is already Redis-strict about the form, and copies nothing.
    static func handle(decimal id: UnsafeRawBufferPointer) -> UInt64? {
        guard let value = Numbers.parseInt64(id), value >= 0 else { return nil }
        return UInt64(value)
    }

    public func queue(_ key: QueueKey) -> QueueState? {
        if let recent = recentQueue, recent.key == key { return recent }
        return queues[key]
    }

    /// The state of the queue named `name`, if the engine has one. The queue
    /// asked for last is compared first, so the LPUSHes into one busy queue
    /// neither copy nor hash its name.
    public func queue(database: Int, _ name: UnsafeRawBufferPointer) -> QueueState? {
        if queues.isEmpty { return nil }
        if let recent = recentQueue, recent.key.names(database: database, name) { return recent }
        guard let state = queues[QueueKey(database: database, name: Array(name))] else { return nil }
        recentQueue = state
        return state
    }

    func queueState(_ key: QueueKey) -> QueueState {
        // The dispatch path asks for the same queue over and over: compare before hashing.
        if let recent = recentQueue, recent.key == key { return recent }
        if let state = queues[key] {
            recentQueue = state
            return state
        }
        nextQueueSerial += 1
        let state = QueueState(key: key, serial: nextQueueSerial)
        queues[key] = state
        recentQueue = state
        return state
    }

    public func queueState(database: Int, name: [UInt8]) -> QueueState {
        queueState(QueueKey(database: database, name: name))
    }

    /// The list of a queue, if it has pending jobs.
    public func list(_ key: QueueKey) -> (KeyEntry, ListValue)? {
        guard let entry = key.name.withUnsafeBytes({ keyspace[key.database].lookup($0) }),
              case let .list(list) = entry.value else { return nil }
        return (entry, list)
    }

    public var jobCount: Int { records.count }
    public func count(in state: JobState) -> Int { records.values.reduce(0) { $0 + ($1.state == state ? 1 : 0) } }

    /// Jobs delayed, active (in-process plain jobs included: they have no
    /// record) and dead, summed over the queues: O(queues), not O(jobs).
    public var queueTotals: (delayed: Int, active: Int, dead: Int) {
        queues.values.reduce((0, 0, 0)) { ($0.0 + $1.delayed, $0.1 + $1.active, $0.2 + $1.dead.count) }
    }

    func newHandle() -> UInt64 {
        // A handle whose decimal form is somebody's custom id is skipped.
        while records[nextHandle] != nil || (!handlesByID.isEmpty && handlesByID[JobRecord.decimalID(nextHandle)] != nil) {
            nextHandle += 1
        }
        defer { nextHandle += 1 }
        return nextHandle
    }

    func register(_ record: JobRecord) {
        records[record.handle] = record
        if let id = record.customID { handlesByID[id] = record.handle }
        nextHandle = max(nextHandle, record.handle + 1)
        if let unique = record.options.unique {
            uniqueHolders[UniqueKey(database: record.database, key: unique)] = record.handle
        }
    }

    func forget(_ record: JobRecord) {
        records[record.handle] = nil
        if let id = record.customID, handlesByID[id] == record.handle { handlesByID[id] = nil }
        if let unique = record.options.unique {
            let key = UniqueKey(database: record.database, key: unique)
            if uniqueHolders[key] == record.handle { uniqueHolders[key] = nil }
        }
        if record.state == .dead, let queue = queues[QueueKey(database: record.database, name: record.queue)] {
            queue.dead.removeAll { $0 == record.handle }
        }
    }

    /// The job holding unique `key`, while it still holds it.
    func uniqueHolder(database: Int, key: [UInt8], now: Int64) -> JobRecord? {
        guard let handle = uniqueHolders[UniqueKey(database: database, key: key)], let record = records[handle] else { return nil }
        if !record.state.isFinished { return record }
        if record.options.uniqueFor > 0 && record.startedAt > 0 && now < record.startedAt + record.options.uniqueFor { return record }
        return nil
    }

    func log(_ database: Int, _ words: @autoclosure () -> [[UInt8]]) {
        onRecord?(database) { e in
            let words = words()
            e.begin(words.count + 1)
            e.argument("JOBD")
            for word in words { e.argument(word) }
        }
    }

    // The records of the in-process dispatch path, encoded without building arrays.

    /// LEASE of a job whose id is its handle.
    func logLease(_ database: Int, queue: [UInt8], level: Int, handle: UInt64, now: Int64, deadline: Int64) {
        onRecord?(database) { e in
            e.begin(8)
            e.argument("JOBD")
            e.argument("LEASE")
            e.argument(queue)
            e.argument(Int64(level))
            e.argument(Int64(bitPattern: handle))
            e.argument(Int64(bitPattern: handle))  // the id
            e.argument(now)
            e.argument(deadline)
        }
    }

    func logAck(_ database: Int, handle: UInt64, now: Int64, result: [UInt8]) {
        onRecord?(database) { e in
            e.begin(5)
            e.argument("JOBD")
            e.argument("ACK")
            e.argument(Int64(bitPattern: handle))
            e.argument(now)
            e.argument(result)
        }
    }

    // MARK: Adding

    /// What JOB.ADD asks for once parsed (JobRequestParser.swift).
    public struct AddRequest: Sendable {
        public var queue: [UInt8]
        public var payload: [UInt8]
        public var options = JobOptions()
        public var id: [UInt8]?
        /// Absolute run time for DELAY/AT (nil: now).
        public var runAt: Int64?
        public init(queue: [UInt8], payload: [UInt8]) {
            self.queue = queue
            self.payload = payload
        }
    }

    /// JOB.ADD: returns the new job, or the job already holding the unique key (`existed`).
    public func add(_ request: AddRequest, database: Int, now: Int64) throws(JobError) -> (record: JobRecord, existed: Bool) {
        if let unique = request.options.unique, let holder = uniqueHolder(database: database, key: unique, now: now) {
            return (holder, true)
        }
        if let id = request.id, let existing = job(id) {
            guard existing.state.isFinished else {
                throw JobError("ERR job id '\(String(decoding: id.prefix(64), as: UTF8.self))' already exists and is \(existing.state.rawValue)")
            }
            forget(existing)
        }
        let handle = newHandle()
        let record = applyAdd(request, database: database, handle: handle, createdAt: now, now: now)
        log(database, JobLogRecords.add(record, request: request))
        return (record, false)
    }

    /// Creates the record and puts the job in its list or on the timeline.
    @discardableResult
    func applyAdd(_ request: AddRequest, database: Int, handle: UInt64, createdAt: Int64, now: Int64) -> JobRecord {
        let key = QueueKey(database: database, name: request.queue)
        let queue = queueState(key)
        let level = request.options.priority ?? queue.defaultPriority
        let runAt = request.runAt ?? createdAt
        let delayed = runAt > now
        let record = JobRecord(handle: handle, customID: request.id.flatMap { JobRecord.customID($0, handle: handle) }, database: database,
                               queue: request.queue, state: delayed ? .delayed : .pending, priority: level,
                               options: request.options, createdAt: createdAt, scheduledAt: delayed ? runAt : createdAt)
        register(record)
        queue.enqueued += 1
        totals.added += 1
        if delayed {
            record.payload = request.payload
            queue.delayed += 1
            timeline.schedule(.due, handle, at: runAt)
        } else {
            pushPending(record, payload: request.payload, frontOfLine: false, now: now)
        }
        if record.expiresAt > 0 { timeline.schedule(.ttl, handle, at: record.expiresAt) }
        return record
    }

    /// Puts a job into its queue's list at its level: at the back of the
    /// line, or at the front (a job that was already first: lease lost).
    func pushPending(_ record: JobRecord, payload: [UInt8], frontOfLine: Bool, now: Int64) {
        let key = QueueKey(database: record.database, name: record.queue)
        let db = keyspace[record.database]
        if let (_, list) = list(key) {
            list.push(payload, level: record.priority, atLevelHead: !frontOfLine, tag: record.handle)
        } else {
            let list = ListValue()
            list.push(payload, level: record.priority, atLevelHead: !frontOfLine, tag: record.handle)
            db.add(record.queue, .list(list))
        }
        record.payload = nil
        queueState(key).arrivals[record.priority].arrived(now, frontOfLine: frontOfLine)
        onReady?(key)
    }

    /// A plain LPUSH/RPUSH of `count` jobs into a queue the engine knows.
    public func notePush(_ queue: QueueState, level: Int, count: Int, frontOfLine: Bool, now: Int64) {
        queue.enqueued += count
        queue.arrivals[level].arrived(now, frontOfLine: frontOfLine, count: count)
    }

    /// Jobs whose elements left their list through plain list commands
    /// (RPOP, LREM, DEL...): they are gone from the engine too.
    public func dropTakenJobs() {
        guard !DroppedJobTags.tags.isEmpty else { return }
        let tags = DroppedJobTags.tags
        DroppedJobTags.tags.removeAll(keepingCapacity: true)
        for tag in tags {
            guard let record = records[tag], record.state == .pending else { continue }
            forget(record)
        }
    }
}
