import JobdSystem

/// A pool of in-process worker threads serving some queues with one
/// handler (a `worker` line of the config). The engine thread owns the
/// pool: each loop turn it takes completions back (`collect`) and refills
/// the workers' rings in priority order (`refill`).
public final class WorkerPool {
    public let spec: WorkerPoolSpec
    /// Leases of this pool's workers are held by this id (negative: never a client id).
    public let holderID: Int64
    private let wake: EngineWake
    private(set) var workers: [Worker] = []
    /// Workers told to stop, until their threads have ended.
    private var retiring: [Worker] = []
    private var nextWorkerIndex = 0
    /// No new jobs are handed out (shutdown).
    public private(set) var draining = false
    public internal(set) var stats = WorkerPoolStats()
    /// Round-robin start for refills, so work spreads over the workers.
    private var refillStart = 0
    /// Scratch for refill: free slots and their workers (kept to avoid allocating each turn).
    private var fillSlots: [WorkerSlot] = []
    private var fillTargets: [Worker] = []

    // The spec's fields the refill reads every turn, copied out once.
    private let depth: Int
    private let queueNames: [[UInt8]]
    private let database: Int
    private let timeoutMillis: Int64
    /// Free slots over all workers: a refill with none returns at once.
    private var freeSlotCount = 0

    init(spec: WorkerPoolSpec, holderID: Int64, wake: EngineWake) {
        self.spec = spec
        self.holderID = holderID
        self.wake = wake
        depth = spec.handler.ringDepth
        queueNames = spec.queues
        database = spec.database
        timeoutMillis = spec.timeoutMillis
    }

    public var concurrency: Int { workers.count }
    public var running: Int { (workers + retiring).reduce(0) { $0 + $1.inFlight } }
    public var busyWorkers: Int { workers.reduce(0) { $0 + ($1.inFlight > 0 ? 1 : 0) } }

    /// Starts or stops threads until `count` run. Stopped workers hand back
    /// the jobs they have not started and end after the one they are running.
    public func scale(to count: Int) throws {
        while workers.count < count {
            let worker = try Worker(index: nextWorkerIndex, handler: spec.handler, wake: wake, name: spec.name)
            nextWorkerIndex += 1
            workers.append(worker)
            freeSlotCount += worker.depth
        }
        while workers.count > count {
            let worker = workers.removeLast()
            freeSlotCount -= worker.depth - worker.inFlight
            worker.stopping.store(true, ordering: .releasing)
            worker.parker.unpark()
            retiring.append(worker)
        }
    }

    /// Shutdown: hand out nothing more; running jobs finish, queued ones come back unrun.
    public func drain() {
        draining = true
        for worker in workers {
            worker.stopping.store(true, ordering: .releasing)
            worker.parker.unpark()
        }
    }

    /// Asks every running job to stop (exec'd programs are terminated).
    public func cancelRunning() {
        for worker in workers + retiring {
            for slot in worker.slots where slot.inUse { slot.cancel.store(true, ordering: .relaxed) }
        }
    }

    /// Slots handed out and not yet taken back.
    var slotsInUse: [WorkerSlot] { (workers + retiring).flatMap { $0.slots.filter(\.inUse) } }

    /// The pool's database was flushed: what is running now comes back to nothing.
    func abandonRunning() {
        for worker in workers + retiring {
            for slot in worker.slots where slot.inUse { slot.abandoned = true }
        }
    }

    /// Everything handed out has come back.
    public var isIdle: Bool { running == 0 }

    /// The slot running the plainly pushed job `handle`, if any.
    func runningSlot(_ handle: UInt64) -> WorkerSlot? {
        for worker in workers + retiring {
            if let slot = worker.slots.first(where: { $0.inUse && !$0.abandoned && $0.handle == handle }) { return slot }
        }
        return nil
    }

    /// True when some worker has handed something back (the engine must not sleep).
    public var hasCompletions: Bool {
        workers.contains { !$0.completions.isEmpty } || retiring.contains { !$0.completions.isEmpty || $0.exited.load(ordering: .acquiring) }
    }

    /// Takes back every finished slot and applies its outcome.
    public func collect(_ engine: JobEngine, now: Int64) {
        for worker in workers where worker.inFlight > 0 { collect(worker, engine, now: now) }
        guard !retiring.isEmpty else { return }
        for worker in retiring { collect(worker, engine, now: now, retired: true) }
        retiring.removeAll { worker in
            guard worker.exited.load(ordering: .acquiring) else { return false }
            collect(worker, engine, now: now, retired: true)
            worker.join()
            return true
        }
    }

    private func collect(_ worker: Worker, _ engine: JobEngine, now: Int64, retired: Bool = false) {
        while let slot = worker.takeCompleted() {
            stats.record(slot)
            engine.workerFinished(slot, holder: holderID, retries: spec.retries, now: now)
            worker.release(slot)
            if !retired { freeSlotCount += 1 }
        }
    }

    /// Fills the workers' rings with the most urgent ready jobs, one job
    /// per worker per round so that work spreads evenly.
    public func refill(_ engine: JobEngine, now: Int64) {
        guard freeSlotCount > 0, !draining else { return }
        // The free slots, round-robin over the workers.
        fillSlots.removeAll(keepingCapacity: true)
        fillTargets.removeAll(keepingCapacity: true)
        let count = workers.count
        for round in 0..<depth {
            for step in 0..<count {
                let worker = workers[(refillStart + step) % count]
                guard worker.depth - worker.inFlight > round, let slot = worker.freeSlot(round) else { continue }
                fillSlots.append(slot)
                fillTargets.append(worker)
            }
        }
        guard !fillSlots.isEmpty else { return }
        let filled = engine.leaseToWorkers(fillSlots, count: fillSlots.count, database: database, names: queueNames,
                                           holder: holderID, timeoutMillis: timeoutMillis, now: now)
        guard filled > 0 else { return }
        for i in 0..<filled { fillTargets[i].give(fillSlots[i]) }
        freeSlotCount -= filled
        refillStart = (refillStart + filled) % count
        for worker in workers { worker.unparkIfGiven() }
    }

    /// Stops every thread (after `drain` and once idle, or at exit).
    public func stopAll() {
        try? scale(to: 0)
        for worker in retiring { worker.join() }
        retiring.removeAll()
    }
}
