import Synchronization

/// One job on its way through an in-process worker. A pool allocates its
/// slots once; the rings carry slot indices, never references, so a job
/// dispatched and completed costs no allocation or reference counting
/// (the payload and result buffers keep their capacity from job to job).
///
/// Ownership moves with the index: the engine fills a slot and pushes its
/// index (release), the worker pops it (acquire), runs the job, writes the
/// outcome and pushes the index back the same way. Fields are grouped by
/// who writes them; the engine-only ones are never read by a worker.
public final class WorkerSlot: @unchecked Sendable {
    // Written by the engine before dispatch; read by the worker.
    public internal(set) var handle: UInt64 = 0
    /// The job's custom id (JOB.ADD ID); nil when its id is its handle.
    public internal(set) var customID: [UInt8]?
    public internal(set) var queue: [UInt8] = []
    public internal(set) var payload: [UInt8] = []
    public internal(set) var attempt = 0
    public internal(set) var priority = 0
    var timeoutMillis: Int64 = 0

    // Written by the worker; read by the engine after completion.
    var outcome = Outcome.notRun
    var result: [UInt8] = []
    var error: [UInt8] = []
    var handlerNanos: Int64 = 0

    /// Set by the engine to stop the job while it runs (JOB.CANCEL, shutdown).
    let cancel = Atomic<Bool>(false)

    // Engine only.
    let index: UInt32
    var inUse = false
    /// The job has a record in the engine (added with options, retried, or looked up while running).
    var hasRecord = false
    /// Its database was flushed while it ran: the outcome is ignored.
    var abandoned = false
    var level = 0
    /// The state of the queue the job came from (saves a lookup on completion).
    var queueState: QueueState?
    var dispatchedNanos: Int64 = 0

    enum Outcome: Equatable {
        /// Handed back unstarted (the worker is stopping).
        case notRun
        case succeeded
        case failed
        case timedOut
        case canceled
    }

    init(index: UInt32) { self.index = index }

    /// Engine: the slot goes out to a worker (whichever ring carries it).
    func handOut() {
        inUse = true
        outcome = .notRun
    }

    /// The job's id (built when a handler needs it).
    public var id: [UInt8] { customID ?? JobRecord.decimalID(handle) }

    /// The worker's view of the job for a closure handler.
    var job: WorkerJob { WorkerJob(id: id, queue: queue, payload: payload, attempt: attempt, priority: priority) }

    func setError(_ text: String) {
        error.removeAll(keepingCapacity: true)
        error.append(contentsOf: text.utf8)
    }
}

extension Array where Element == UInt8 {
    /// Replaces the contents, keeping the capacity (no allocation once it is
    /// large enough). The count is set first and the bytes copied with one
    /// memcpy: a slot's payloads are often the same size as its last one, and
    /// then that is all it costs (append(contentsOf:) took about 200 instructions).
    mutating func replace(with bytes: UnsafeRawBufferPointer) {
        let wanted = bytes.count
        if count > wanted {
            removeLast(count - wanted)
        } else if count < wanted {
            append(contentsOf: repeatElement(0, count: wanted - count))
        }
        guard wanted > 0 else { return }
        withUnsafeMutableBytes { $0.baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: wanted) }
    }
}
