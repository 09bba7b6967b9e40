import JobdSystem

/// A pool of in-process worker threads serving some queues with one
/// handler (a `worker` line of the config). The engine thread owns the
/// pool: each loop turn it takes completions back (`collect`) and refills
/// the rings in priority order (`refill`): each worker's own rings, or the
/// pool's shared ring (`DispatchMode`).
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
    public let dispatchMode: DispatchMode
    /// The slab and rings of `.mpmcShared`; nil with per-worker rings.
    private let shared: SharedDispatch?
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
    /// Free slots over all workers' own rings: a refill with none returns at once.
    private var freeSlotCount = 0

    init(spec: WorkerPoolSpec, holderID: Int64, wake: EngineWake) {
        self.spec = spec
        self.holderID = holderID
        self.wake = wake
        depth = spec.handler.ringDepth
        queueNames = spec.queues
        database = spec.database
        timeoutMillis = spec.timeoutMillis
        dispatchMode = spec.dispatchMode
        shared = spec.dispatchMode == .mpmcShared ? SharedDispatch(depth: depth, jobsPerWake: spec.handler.jobsPerWake) : nil
    }

    /// Shared dispatch: workers idle now, and idle workers the engine has woken so far.
    var idleWorkers: Int { shared?.idleCount.load(ordering: .relaxed) ?? 0 }
    var workersWoken: Int { shared?.workersWoken ?? 0 }

    public var concurrency: Int { workers.count }
    /// Jobs handed out and not yet taken back.
    public var running: Int {
        if let shared { return shared.outstanding }
        return (workers + retiring).reduce(0) { $0 + $1.rings!.inFlight }
    }

    /// Workers with a job. With a shared ring jobs belong to no worker: as
    /// many as there are jobs out, up to the pool's size.
    public var busyWorkers: Int {
        if let shared { return min(workers.count, shared.outstanding) }
        return workers.reduce(0) { $0 + ($1.rings!.inFlight > 0 ? 1 : 0) }
    }

    /// Starts or stops threads until `count` run. Stopped workers hand back
    /// the jobs they have not started and end after the one they are running.
    public func scale(to count: Int) throws {
        while workers.count < count {
            let feed: Worker.Feed = if let shared { .shared(shared) } else { .own(WorkerRings(depth: depth)) }
            let worker = try Worker(index: nextWorkerIndex, handler: spec.handler, feed: feed, wake: wake, name: spec.name)
            nextWorkerIndex += 1
            workers.append(worker)
            if shared == nil { freeSlotCount += depth }
        }
        let stopped = workers.count > count
        // With no worker left, nobody would take what waits in a shared ring;
        // once there are workers again (scaled back up), they take it.
        if !draining { shared?.handingBack.store(count == 0, ordering: .relaxed) }
        while workers.count > count {
            let worker = workers.removeLast()
            if let rings = worker.rings { freeSlotCount -= rings.depth - rings.inFlight }
            stop(worker)
            retiring.append(worker)
        }
        guard let shared else { return }
        shared.resize(workers: workers.count)
        // A stopped worker may have been the one woken for a slot still in the ring.
        if stopped { shared.wakeIdle(workers, published: shared.ring.count) }
    }

    /// Shared feed: a worker told to stop hands back what waits in the ring
    /// (no worker would be left to take it) instead of leaving it to the others.
    var stoppedWorkersHandBack: Bool { shared?.handingBack.load(ordering: .relaxed) ?? false }

    /// Release: a shared feed's `handingBack` is set before, and seen after the worker's acquire.
    private func stop(_ worker: Worker) {
        worker.stopping.store(true, ordering: .releasing)
        worker.parker.unpark()
    }

    /// Shutdown: hand out nothing more; running jobs finish, queued ones come back unrun.
    public func drain() {
        draining = true
        shared?.handingBack.store(true, ordering: .relaxed)
        for worker in workers { stop(worker) }
    }

    /// Every slot of the pool, in use or not.
    private var allSlots: [WorkerSlot] {
        if let shared { return shared.slab }
        return (workers + retiring).flatMap { $0.rings!.slots }
    }

    /// Asks every running job to stop (exec'd programs are terminated).
    public func cancelRunning() {
        for slot in allSlots where slot.inUse { slot.cancel.store(true, ordering: .relaxed) }
    }

    /// Slots handed out and not yet taken back.
    var slotsInUse: [WorkerSlot] { allSlots.filter(\.inUse) }

    /// The pool's database was flushed: what is running now comes back to nothing.
    func abandonRunning() {
        for slot in allSlots where slot.inUse { slot.abandoned = true }
    }

    /// Everything handed out has come back.
    public var isIdle: Bool { running == 0 }

    /// The slot running the plainly pushed job `handle`, if any.
    func runningSlot(_ handle: UInt64) -> WorkerSlot? {
        allSlots.first { $0.inUse && !$0.abandoned && $0.handle == handle }
    }

    /// True when some worker has handed something back (the engine must not sleep).
    public var hasCompletions: Bool {
        if let shared {
            return !shared.completions.isEmpty || retiring.contains { $0.exited.load(ordering: .acquiring) }
        }
        return workers.contains { !$0.rings!.completions.isEmpty }
            || retiring.contains { !$0.rings!.completions.isEmpty || $0.exited.load(ordering: .acquiring) }
    }

    /// Takes back every finished slot and applies its outcome.
    public func collect(_ engine: JobEngine, now: Int64) {
        if let shared { return collectShared(shared, engine, now: now) }
        for worker in workers where worker.rings!.inFlight > 0 { collect(worker, engine, now: now) }
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
        let rings = worker.rings!
        while let slot = rings.takeCompleted() {
            finished(slot, engine, now: now)
            rings.release(slot)
            if !retired { freeSlotCount += 1 }
        }
    }

    /// Completions come through one ring, whichever worker ran them, so a
    /// stopped worker can go as soon as it has exited.
    private func collectShared(_ shared: SharedDispatch, _ engine: JobEngine, now: Int64) {
        while let slot = shared.takeCompleted() {
            finished(slot, engine, now: now)
            shared.release(slot)
        }
        guard !retiring.isEmpty else { return }
        retiring.removeAll { worker in
            guard worker.exited.load(ordering: .acquiring) else { return false }
            worker.join()
            return true
        }
    }

    private func finished(_ slot: WorkerSlot, _ engine: JobEngine, now: Int64) {
        stats.record(slot)
        engine.workerFinished(slot, holder: holderID, retries: spec.retries, now: now)
    }

    /// Fills the workers' rings with the most urgent ready jobs, one job
    /// per worker per round so that work spreads evenly.
    public func refill(_ engine: JobEngine, now: Int64) {
        if let shared { return refillShared(shared, engine, now: now) }
        guard freeSlotCount > 0, !draining else { return }
        // The free slots, round-robin over the workers.
        fillSlots.removeAll(keepingCapacity: true)
        fillTargets.removeAll(keepingCapacity: true)
        let count = workers.count
        for round in 0..<depth {
            for step in 0..<count {
                let worker = workers[(refillStart + step) % count]
                guard let slot = worker.rings!.freeSlot(round) else { continue }
                fillSlots.append(slot)
                fillTargets.append(worker)
            }
        }
        let filled = lease(engine, now: now)
        guard filled > 0 else { return }
        for i in 0..<filled { fillTargets[i].rings!.give(fillSlots[i]) }
        freeSlotCount -= filled
        refillStart = (refillStart + filled) % count
        for worker in workers {
            guard let rings = worker.rings, rings.given else { continue }
            rings.given = false
            worker.parker.unpark()
        }
    }

    /// Fills the free slots of the shared slab, most urgent job first, and
    /// wakes idle workers for them (SharedDispatch.wakeIdle: one per refill
    /// for the fast built-in handlers, one per job for the others).
    private func refillShared(_ shared: SharedDispatch, _ engine: JobEngine, now: Int64) {
        guard !shared.free.isEmpty, !draining else { return }
        fillSlots.removeAll(keepingCapacity: true)
        for index in shared.free.reversed() { fillSlots.append(shared.slab[Int(index)]) }
        let filled = lease(engine, now: now)
        guard filled > 0 else { return }
        for i in 0..<filled { shared.give(fillSlots[i]) }
        shared.wakeIdle(workers, published: filled)
    }

    /// Leases the most urgent ready jobs into `fillSlots`, in order; returns how many.
    private func lease(_ engine: JobEngine, now: Int64) -> Int {
        guard !fillSlots.isEmpty else { return 0 }
        return engine.leaseToWorkers(fillSlots, count: fillSlots.count, database: database, names: queueNames,
                                     holder: holderID, timeoutMillis: timeoutMillis, now: now)
    }

    /// Stops every thread (after `drain` and once idle, or at exit).
    public func stopAll() {
        try? scale(to: 0)
        for worker in retiring { worker.join() }
        retiring.removeAll()
    }
}
