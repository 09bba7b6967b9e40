import JobdSystem
import Synchronization

/// The pool's side of `DispatchMode.mpmcShared`: one slab of slots for the
/// whole pool (workers × ring depth of them), one MPMC ring that carries
/// filled slots to whichever worker is free, one MPMC ring that carries them
/// back, and the register of idle workers the engine wakes.
///
/// Why one ring and not one per priority level: the engine leases in
/// priority order, so the ring is always in priority order, and it holds at
/// most the slab (a few jobs per worker, as the per-worker rings do). A job
/// that arrives later overtakes everything still in its queue's list, and
/// waits only behind jobs already leased, as with per-worker rings. Rings per
/// level would cost every idle poll one load per level, for a reordering
/// among at most a slab of leased jobs that the per-worker design lacks too.
///
/// Waking: a worker with nothing to pop marks itself idle, counts itself in
/// `idleCount`, fences, and pops once more before it parks; the engine
/// publishes slots, fences, and reads `idleCount`. The two sequentially
/// consistent fences (Dekker, as in `EngineWake`) make at least one side see
/// the other, so a slot never waits in the ring while every worker sleeps.
/// The engine wakes at most one idle worker per slot it published, and only
/// a worker whose idle mark it cleared itself; whoever clears a mark
/// (engine or the worker on waking) takes it off the count.
final class SharedDispatch: @unchecked Sendable {
    /// Engine → any worker: indices of filled slots.
    let ring: MPMCRing
    /// Any worker → engine: indices of slots with an outcome.
    let completions: MPMCRing
    /// Workers marked idle (about to park or parked).
    let idleCount = Atomic<Int>(0)
    /// Set before the last workers stop (drain, scale to zero): slots still in
    /// the ring come back unrun instead of waiting for a worker that never comes.
    let handingBack = Atomic<Bool>(false)
    /// Slot references by index, for the workers: written by the engine before
    /// the index first goes through the ring (whose release/acquire publishes
    /// it), never changed after. Unmanaged, so a lookup costs no reference count.
    private let lookup: UnsafeMutablePointer<Unmanaged<WorkerSlot>>

    // Engine only.
    let depth: Int
    /// Published jobs per idle worker woken (JobHandler.jobsPerWake).
    let jobsPerWake: Int
    /// Idle workers the engine has woken so far (tests read it).
    private(set) var workersWoken = 0
    /// Every slot made so far (the strong references).
    private(set) var slab: [WorkerSlot] = []
    private var freeSlots: [UInt32] = []
    /// Slots set aside after a scale down, reused first by a scale up.
    private var spareSlots: [UInt32] = []
    /// The slots the pool should have: workers × depth.
    private var wanted = 0
    /// Slots handed out and not yet back.
    private(set) var outstanding = 0

    /// Room for the largest pool: the rings must hold every slot of the slab,
    /// and cannot grow while workers use them.
    init(depth: Int, jobsPerWake: Int) {
        self.depth = depth
        self.jobsPerWake = jobsPerWake
        let capacity = WorkerPoolSpec.maxConcurrency * depth
        ring = MPMCRing(capacity: capacity)
        completions = MPMCRing(capacity: capacity)
        lookup = .allocate(capacity: capacity)
    }

    deinit { lookup.deallocate() }

    /// Worker: the slot behind an index popped from `ring`.
    @inline(__always)
    func slot(_ index: UInt32) -> WorkerSlot { lookup[Int(index)].takeUnretainedValue() }

    // MARK: Engine

    /// Free slots, the next one to fill last.
    var free: [UInt32] { freeSlots }

    /// Sizes the slab for `workers` workers. Slots out with a worker when it
    /// shrinks are set aside as they come back (`release`).
    func resize(workers: Int) {
        wanted = workers * depth
        while live < wanted {
            if let index = spareSlots.popLast() {
                freeSlots.append(index)
            } else {
                let slot = WorkerSlot(index: UInt32(slab.count))
                lookup[slab.count] = Unmanaged.passUnretained(slot)
                slab.append(slot)
                freeSlots.append(slot.index)
            }
        }
        while live > wanted, let index = freeSlots.popLast() { spareSlots.append(index) }
    }

    /// Slots of the slab not set aside.
    private var live: Int { slab.count - spareSlots.count }

    /// Hands the free slot `index` (filled by the engine) to the workers.
    /// The caller takes slots from the end of `free`, last first.
    func give(_ slot: WorkerSlot) {
        precondition(freeSlots.last == slot.index, "slots are given from the end of the free list")
        freeSlots.removeLast()
        slot.handOut()
        outstanding += 1
        let pushed = ring.push(slot.index)
        precondition(pushed, "the dispatch ring holds the whole slab")
    }

    /// The next slot handed back, if any.
    func takeCompleted() -> WorkerSlot? {
        guard let index = completions.pop() else { return nil }
        return slab[Int(index)]
    }

    /// The slot's outcome has been applied: free again, or set aside if the pool shrank.
    func release(_ slot: WorkerSlot) {
        slot.inUse = false
        outstanding -= 1
        if live > wanted { spareSlots.append(slot.index) } else { freeSlots.append(slot.index) }
    }

    /// After publishing `published` slots (or stopping a worker that may have
    /// been woken for one): wakes idle workers of `workers`, one per
    /// `jobsPerWake` slots. Never none while any is idle: a worker not idle
    /// pops again before it parks, so no slot waits with every worker asleep.
    func wakeIdle(_ workers: [Worker], published: Int) {
        // Pairs with the worker's fence between marking itself idle and its last pop.
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        guard published > 0 else { return }
        var wanted = min((published - 1) / jobsPerWake + 1, idleCount.load(ordering: .relaxed))
        guard wanted > 0 else { return }
        for worker in workers where worker.idle.load(ordering: .relaxed) {
            guard worker.idle.exchange(false, ordering: .relaxed) else { continue }
            idleCount.subtract(1, ordering: .relaxed)
            worker.parker.unpark()
            workersWoken += 1
            wanted -= 1
            if wanted == 0 { return }
        }
    }
}
