import Glibc
import JobdSystem
import Synchronization

/// One worker thread of a pool. It takes slot indices from its dispatch
/// ring, runs the pool's handler on each, and pushes them to its
/// completion ring. With nothing to do it spins briefly and then parks on
/// a futex; the engine unparks it after refilling its ring.
final class Worker: @unchecked Sendable {
    let index: Int
    let handler: JobHandler
    /// This worker's slots: `depth` of them, so its rings can never overflow.
    let slots: [WorkerSlot]
    let wake: EngineWake
    /// Engine → worker; at most `depth` entries.
    let dispatch: SPSCRing
    /// Worker → engine; never full, since a worker holds at most `depth` slots.
    let completions: SPSCRing
    let parker = Parker()
    /// Hand back the jobs not yet started, then exit (scale down, shutdown).
    let stopping = Atomic<Bool>(false)
    let exited = Atomic<Bool>(false)
    private var thread: Thread?

    /// Polls before sleeping on the futex (about 26 ns each). Spinning longer
    /// saves the engine a futex wake when jobs come back to back, but steals
    /// a core from the engine thread on small machines.
    static let spinsBeforeParking = 20

    // Engine only.
    let depth: Int
    var inFlight: Int { depth - freeSlots.count }
    private var freeSlots: [UInt32]
    /// Jobs were given since the last unpark.
    var given = false

    init(index: Int, handler: JobHandler, wake: EngineWake, name: String) throws {
        self.index = index
        self.handler = handler
        self.wake = wake
        depth = handler.ringDepth
        slots = (0..<depth).map { WorkerSlot(index: UInt32($0)) }
        freeSlots = (0..<UInt32(depth)).reversed()
        dispatch = SPSCRing(capacity: depth)
        completions = SPSCRing(capacity: depth)
        thread = try Thread(name: String("jobd-w:\(name)".prefix(15))) { [self] in run() }
    }

    /// Engine: the `n`th free slot from the top (0: the one `give` takes first).
    func freeSlot(_ n: Int) -> WorkerSlot? {
        n < freeSlots.count ? slots[Int(freeSlots[freeSlots.count - 1 - n])] : nil
    }

    /// Engine: hands a filled free slot to this worker (free slots are given top first).
    func give(_ slot: WorkerSlot) {
        precondition(freeSlots.last == slot.index, "slots are given in freeSlot order")
        freeSlots.removeLast()
        slot.inUse = true
        slot.outcome = .notRun
        given = true
        let pushed = dispatch.push(slot.index)
        precondition(pushed, "a worker's ring holds its depth")
    }

    /// Engine: the next slot handed back, if any.
    func takeCompleted() -> WorkerSlot? {
        guard let index = completions.pop() else { return nil }
        return slots[Int(index)]
    }

    /// Engine: the slot's outcome has been applied; it can be filled again.
    func release(_ slot: WorkerSlot) {
        slot.inUse = false
        freeSlots.append(slot.index)
    }

    /// Engine: wakes the thread if jobs were given since the last call.
    func unparkIfGiven() {
        guard given else { return }
        given = false
        parker.unpark()
    }

    func join() { thread?.join() }

    private func run() {
        let runner: ProcessRunner? = if case .exec = handler { ProcessRunner() } else { nil }
        while true {
            guard let index = dispatch.pop() else {
                if stopping.load(ordering: .acquiring) { break }
                parker.park(spins: Worker.spinsBeforeParking)
                continue
            }
            let slot = slots[Int(index)]
            if stopping.load(ordering: .acquiring) {
                slot.outcome = .notRun
            } else {
                let started = Clock.monotonicNanos()
                perform(slot, runner)
                slot.handlerNanos = Clock.monotonicNanos() - started
            }
            let pushed = completions.push(index)
            precondition(pushed, "a completion ring holds its worker's depth")
            wake.notify()
        }
        exited.store(true, ordering: .releasing)
        wake.notify()
    }

    private func perform(_ slot: WorkerSlot, _ runner: ProcessRunner?) {
        slot.result.removeAll(keepingCapacity: true)
        slot.error.removeAll(keepingCapacity: true)
        switch handler {
        case .noop:
            slot.outcome = .succeeded
        case .echo:
            slot.result.append(contentsOf: slot.payload)
            slot.outcome = .succeeded
        case .fail:
            slot.setError("failed by the 'fail' handler")
            slot.outcome = .failed
        case .sleep:
            sleepFor(slot)
        case let .exec(path, arguments):
            runProgram(slot, runner!, path: path, arguments: arguments)
        case let .closure(body):
            do {
                slot.result = try body(slot.job)
                slot.outcome = .succeeded
            } catch {
                slot.setError(String(describing: error))
                slot.outcome = .failed
            }
        }
    }

    /// The `sleep` handler: the payload is milliseconds; stops early at the timeout or a cancel.
    private func sleepFor(_ slot: WorkerSlot) {
        guard let millis = Numbers.parseInt64(slot.payload), millis >= 0 else {
            slot.setError("sleep: the payload must be a number of milliseconds")
            slot.outcome = .failed
            return
        }
        let limit = slot.timeoutMillis > 0 ? min(millis, slot.timeoutMillis) : millis
        let end = Clock.monotonicNanos() + limit * 1_000_000
        while case let left = end - Clock.monotonicNanos(), left > 0 {
            if slot.cancel.load(ordering: .relaxed) {
                slot.outcome = .canceled
                return
            }
            var pause = timespec(tv_sec: 0, tv_nsec: Int(min(left, 20_000_000)))
            nanosleep(&pause, nil)
        }
        if limit < millis {
            slot.setError("timed out after \(slot.timeoutMillis) ms")
            slot.outcome = .timedOut
        } else {
            slot.outcome = .succeeded
        }
    }

    private func runProgram(_ slot: WorkerSlot, _ runner: ProcessRunner, path: String, arguments: [String]) {
        let environment = [
            "JOBD_JOB_ID=" + String(decoding: slot.id, as: UTF8.self),
            "JOBD_QUEUE=" + String(decoding: slot.queue, as: UTF8.self),
            "JOBD_ATTEMPT=\(slot.attempt)",
            "JOBD_PRIORITY=\(slot.priority)",
        ]
        let outcome = slot.payload.withUnsafeBytes { input in
            runner.run(path: path, arguments: arguments, environment: environment, input: input,
                       timeoutMillis: slot.timeoutMillis, isCanceled: { slot.cancel.load(ordering: .relaxed) })
        }
        switch outcome.ending {
        case .exited(0):
            slot.result.append(contentsOf: outcome.stdout)
            slot.outcome = .succeeded
        case .timedOut: slot.outcome = .timedOut
        case .canceled: slot.outcome = .canceled
        default: slot.outcome = .failed
        }
        if slot.outcome != .succeeded { slot.error.append(contentsOf: outcome.errorText) }
    }
}
