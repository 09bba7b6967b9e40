import Glibc
import JobdSystem

/// What a worker does with one job: the pool's handler, timed, or nothing
/// when the job is handed back unstarted.
extension Worker {
    func process(_ slot: WorkerSlot, _ runner: ProcessRunner?, handBack: Bool) {
        if handBack {
            slot.outcome = .notRun
        } else {
            let started = Clock.monotonicNanos()
            perform(slot, runner)
            slot.handlerNanos = Clock.monotonicNanos() - started
        }
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
