import JobdSystem
import Synchronization

/// One worker thread of a pool. It takes slot indices from its feed (its
/// own dispatch ring, or the pool's shared ring), runs the pool's handler on
/// each, and hands them back through the matching completion ring. With
/// nothing to do it spins briefly and then parks on a futex until the
/// engine has something for it.
final class Worker: @unchecked Sendable {
    /// Where a worker's jobs come from (the pool's `DispatchMode`).
    enum Feed {
        case own(WorkerRings)
        case shared(SharedDispatch)
    }

    let index: Int
    let handler: JobHandler
    let feed: Feed
    let wake: EngineWake
    let parker = Parker()
    /// Hand back the jobs not yet started, then exit (scale down, shutdown).
    let stopping = Atomic<Bool>(false)
    let exited = Atomic<Bool>(false)
    /// Shared feed: set by the worker before it parks, cleared by whoever
    /// wakes it (see `SharedDispatch` for the handshake).
    let idle = Atomic<Bool>(false)
    private var thread: Thread?

    /// Polls before sleeping on the futex (about 26 ns each). Spinning longer
    /// saves the engine a futex wake when jobs come back to back, but steals
    /// a core from the engine thread on small machines.
    static let spinsBeforeParking = 20

    init(index: Int, handler: JobHandler, feed: Feed, wake: EngineWake, name: String) throws {
        self.index = index
        self.handler = handler
        self.feed = feed
        self.wake = wake
        thread = try Thread(name: String("jobd-w:\(name)".prefix(15))) { [self] in run() }
    }

    /// The worker's own rings (nil with a shared feed).
    var rings: WorkerRings? {
        if case let .own(rings) = feed { rings } else { nil }
    }

    func join() { thread?.join() }

    private func run() {
        let runner: ProcessRunner? = if case .exec = handler { ProcessRunner() } else { nil }
        switch feed {
        case let .own(rings): runOwn(rings, runner)
        case let .shared(shared): runShared(shared, runner)
        }
        exited.store(true, ordering: .releasing)
        wake.notify()
    }

    /// Own rings: the engine unparks this worker whenever it gave it jobs.
    private func runOwn(_ rings: WorkerRings, _ runner: ProcessRunner?) {
        while true {
            guard let index = rings.dispatch.pop() else {
                if stopping.load(ordering: .acquiring) { return }
                parker.park(spins: Worker.spinsBeforeParking)
                continue
            }
            process(rings.slots[Int(index)], runner, handBack: stopping.load(ordering: .acquiring))
            let pushed = rings.completions.push(index)
            precondition(pushed, "a completion ring holds its worker's depth")
            wake.notify()
        }
    }

    /// Shared ring: any free worker takes the next slot; the engine unparks
    /// only workers that marked themselves idle, one per slot it published.
    private func runShared(_ shared: SharedDispatch, _ runner: ProcessRunner?) {
        while true {
            if stopping.load(ordering: .acquiring) {
                // Scaled down: the others take what is in the ring. The last
                // workers stopping (the acquire above orders the flag) hand it back.
                guard shared.handingBack.load(ordering: .relaxed) else { return }
                while let index = shared.ring.pop() { complete(index, shared, runner, handBack: true) }
                return
            }
            guard let index = shared.ring.pop() ?? waitForSlot(shared) else { continue }
            complete(index, shared, runner, handBack: false)
        }
    }

    private func complete(_ index: UInt32, _ shared: SharedDispatch, _ runner: ProcessRunner?, handBack: Bool) {
        process(shared.slot(index), runner, handBack: handBack)
        let pushed = shared.completions.push(index)
        precondition(pushed, "the completion ring holds the whole slab")
        wake.notify()
    }

    /// Spins on the shared ring, then marks itself idle and parks. Returns a
    /// slot if one came while spinning or just after marking; nil after a
    /// wake (which may be for a slot another worker took, or a stop).
    private func waitForSlot(_ shared: SharedDispatch) -> UInt32? {
        for _ in 0..<Worker.spinsBeforeParking {
            CPU.relax()
            if let index = shared.ring.pop() { return index }
        }
        idle.store(true, ordering: .relaxed)
        shared.idleCount.add(1, ordering: .relaxed)
        // Pairs with the engine's fence between publishing slots and reading
        // idleCount: either it sees this worker idle, or this pop sees the slot.
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        if let index = shared.ring.pop() {
            leaveIdle(shared)
            return index
        }
        parker.park(spins: 0)
        leaveIdle(shared)
        return nil
    }

    /// Clears the idle mark unless the engine already did (it then counted it off and unparked us).
    private func leaveIdle(_ shared: SharedDispatch) {
        if idle.exchange(false, ordering: .relaxed) { shared.idleCount.subtract(1, ordering: .relaxed) }
    }
}
