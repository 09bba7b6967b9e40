import CJobdSystem
import Glibc
import JobdSystem

/// The thread that makes the log durable: fdatasync once a second
/// (`everysec`), or back to back while there is new data (`always`: every
/// fsync covers all batches written while the previous one ran — group
/// commit), and never for `no`. It publishes the last durable batch and
/// wakes the engine when replies are waiting for it. The engine never waits
/// for an fsync.
final class SyncThread: @unchecked Sendable {
    let state: DurabilityState
    /// Wakes this thread (the engine writes to it when it is idle).
    let wake: EventFD
    /// Wakes the engine.
    let engineWake: EventFD
    private var thread: Thread?
    private var lastSyncMillis: Int64 = 0

    init(state: DurabilityState, engineWake: EventFD) throws {
        self.state = state
        self.engineWake = engineWake
        wake = try EventFD()
    }

    func start() throws {
        thread = try Thread(name: "jobd-aof-sync") { [self] in run() }
    }

    /// Called by the engine after it wrote a batch: wake the thread if it sleeps and must act now.
    @inline(__always)
    func batchWritten() {
        if state.policy == .always && state.syncerIdle.load(ordering: .sequentiallyConsistent) { wake.signal() }
    }

    /// Flushes everything, stops the thread and waits for it.
    func stop() {
        state.stopRequested.store(true, ordering: .sequentiallyConsistent)
        wake.signal()
        thread?.join()
        thread = nil
    }

    private func run() {
        while true {
            let stopping = state.stopRequested.load(ordering: .sequentiallyConsistent)
            let policy = state.policy
            let target = state.writtenBatch.load(ordering: .acquiring)
            let bytes = state.writtenBytes.load(ordering: .acquiring)
            let hasActions = state.pendingActions.withLock { !$0.isEmpty }
            let behind = target > state.durableBatch.load(ordering: .relaxed) || hasActions
            let now = Clock.monotonicNanos() / 1_000_000
            // File switches are done at once whatever the policy: a rewrite waits for them.
            if behind && (stopping || policy == .always || hasActions
                          || (policy == .everysec && now - lastSyncMillis >= 1000)) {
                sync(upTo: target, bytes: bytes, flushData: policy != .no || stopping)
                continue
            }
            if behind && policy == .no {
                // Nothing to flush by policy: written counts as done.
                publish(target, bytes)
                continue
            }
            if stopping { return }
            // Sleep until woken or until the next once-a-second flush is due.
            state.syncerIdle.store(true, ordering: .sequentiallyConsistent)
            if state.writtenBatch.load(ordering: .sequentiallyConsistent) > target
                || state.stopRequested.load(ordering: .sequentiallyConsistent) {
                state.syncerIdle.store(false, ordering: .sequentiallyConsistent)
                continue
            }
            var timeout: Int32 = -1
            if policy == .everysec { timeout = behind ? Int32(max(1, 1000 - (now - lastSyncMillis))) : 1000 }
            var pfd = pollfd(fd: wake.fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&pfd, 1, timeout)
            wake.drain()
            state.syncerIdle.store(false, ordering: .sequentiallyConsistent)
        }
    }

    private func sync(upTo target: Int64, bytes: Int64, flushData: Bool) {
        let actions = state.pendingActions.withLock { pending -> [SyncAction] in
            let taken = pending
            pending.removeAll()
            return taken
        }
        let started = Clock.monotonicNanos()
        state.fsyncStartedMillis.store(max(1, started / 1_000_000), ordering: .relaxed)
        var failure: Int32 = 0
        // Files the engine moved away from first, then the directory, then the current file.
        for action in actions {
            switch action {
            case let .syncAndClose(fd, notice):
                // A file being retired or finished is always flushed, whatever the policy.
                if cjobd_fdatasync(fd) != 0 { failure = cjobd_errno() }
                close(fd)
                if notice != 0 && failure == 0 { state.completedNotice.store(notice, ordering: .releasing) }
                if notice != 0 && failure != 0 { state.completedNotice.store(-notice, ordering: .releasing) }
            case let .syncFile(path):
                let fd = open(path, O_RDONLY | O_CLOEXEC)
                if fd >= 0 {
                    if cjobd_fdatasync(fd) != 0 { failure = cjobd_errno() }
                    close(fd)
                }
            case let .syncDirectory(path):
                if cjobd_fsync_directory(path) != 0 { failure = cjobd_errno() }
            }
        }
        let fd = state.currentFD.load(ordering: .acquiring)
        let delay = state.debugFsyncDelayMillis.load(ordering: .relaxed)
        if delay > 0 && flushData {
            var pause = timespec(tv_sec: Int(delay / 1000), tv_nsec: Int(delay % 1000) * 1_000_000)
            nanosleep(&pause, nil)
        }
        if flushData && fd >= 0 && cjobd_fdatasync(fd) != 0 { failure = cjobd_errno() }
        let micros = (Clock.monotonicNanos() - started) / 1000
        state.fsyncStartedMillis.store(0, ordering: .relaxed)
        lastSyncMillis = Clock.monotonicNanos() / 1_000_000
        state.fsyncCount.add(1, ordering: .relaxed)
        if micros > state.slowestFsyncMicros.load(ordering: .relaxed) {
            state.slowestFsyncMicros.store(micros, ordering: .relaxed)
        }
        state.lastFsyncErrno.store(failure, ordering: .relaxed)
        if failure == 0 { publish(target, bytes) }
        else {
            // Try again shortly; durability does not advance past a failed fsync.
            var pause = timespec(tv_sec: 0, tv_nsec: 100_000_000)
            nanosleep(&pause, nil)
        }
    }

    private func publish(_ target: Int64, _ bytes: Int64) {
        if target > state.durableBatch.load(ordering: .relaxed) {
            state.durableBatch.store(target, ordering: .releasing)
        }
        state.durableBytes.store(bytes, ordering: .releasing)
        if state.engineWaiting.load(ordering: .sequentiallyConsistent) { engineWake.signal() }
    }
}
