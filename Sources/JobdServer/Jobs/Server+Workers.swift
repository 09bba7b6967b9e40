import JobdQueue
import JobdSystem

/// In-process worker pools in the loop: started once the log is loaded,
/// fed every turn, and drained on shutdown (SIGTERM: running jobs may
/// finish for shutdown-timeout ms; then exec'd programs are terminated and
/// whatever did not finish goes back to its queue).
extension Server {
    /// Starts the pools of the config's `worker` lines.
    func startWorkerPools() {
        guard jobs.pools.isEmpty else { return }
        for spec in config.workers { startPool(spec) }
    }

    @discardableResult
    private func startPool(_ spec: WorkerPoolSpec) -> Bool {
        var spec = spec
        spec.dispatchMode = DispatchMode.fromEnvironment
        do {
            let pool = try jobs.startPool(spec, wake: workerWake)
            Log.notice("Worker pool '\(spec.name)': \(pool.concurrency) \(spec.handler.name) worker(s)")
            return true
        } catch {
            Log.warning("Cannot start worker pool '\(spec.name)': \(error)")
            return false
        }
    }

    /// Every turn: take completions back, then refill the rings.
    @inline(__always)
    func serveWorkerPools() {
        guard !jobs.pools.isEmpty, !loading else { return }
        let now = keyspace.now
        var retiredPoolIsIdle = false
        for pool in jobs.pools {
            pool.collect(jobs, now: now)
            if !shutdownRequested { pool.refill(jobs, now: now) }
            if pool.draining && pool.isIdle { retiredPoolIsIdle = true }
        }
        // Pools a reload dropped go once their last job is back (at shutdown all drain: workerPoolsStopped ends them).
        if retiredPoolIsIdle && !shutdownRequested {
            for pool in jobs.pools where pool.draining && pool.isIdle {
                jobs.removePool(pool)
                Log.notice("Worker pool '\(pool.spec.name)' stopped")
            }
        }
        if blocking.hasReadyKeys { serveReadyKeys() }
    }

    /// A reload: the pools become those of `wanted` (the file's `worker`
    /// lines). A running pool whose line is still there stays, scaled to the
    /// line's concurrency; a pool whose line is gone drains (its unstarted
    /// jobs go back to their queues, running ones finish) and is removed by
    /// serveWorkerPools; new lines start new pools. Returns what changed.
    func reconcileWorkerPools(_ wanted: [WorkerPoolSpec]) -> [String] {
        var unmatched = wanted
        var changes: [String] = []
        for pool in jobs.pools where !pool.draining {
            if case .closure = pool.spec.handler { continue }  // registered in code, not in the file
            guard let index = unmatched.firstIndex(where: { $0.doesSameWork(as: pool.spec) }) else {
                pool.drain()
                Log.notice("Worker pool '\(pool.spec.name)' is no longer configured: stopping it once its running jobs finish")
                changes.append("stopped pool \(pool.spec.name)")
                continue
            }
            let spec = unmatched.remove(at: index)
            guard pool.concurrency != spec.concurrency else { continue }
            do {
                try pool.scale(to: spec.concurrency)
                Log.notice("Worker pool '\(spec.name)' scaled to \(spec.concurrency)")
                changes.append("scaled pool \(spec.name) to \(spec.concurrency)")
            } catch {
                Log.warning("Cannot scale worker pool '\(spec.name)': \(error)")
            }
        }
        for spec in unmatched where startPool(spec) { changes.append("started pool \(spec.name)") }
        return changes
    }

    /// Before epoll_wait: tells workers the engine may sleep; false if a
    /// completion is already waiting (then the wait must not block).
    func workersAllowSleep() -> Bool {
        guard !jobs.pools.isEmpty else { return true }
        workerWake.prepareToSleep()
        if jobs.pools.contains(where: \.hasCompletions) {
            workerWake.awake()
            return false
        }
        return true
    }

    /// Shutdown: true once the pools have nothing running (or the time is up,
    /// after which unfinished jobs are handed back to their queues).
    func workerPoolsStopped() -> Bool {
        guard !jobs.pools.isEmpty else { return true }
        let now = Clock.monotonicNanos()
        if workersDrainStarted == 0 {
            workersDrainStarted = now
            for pool in jobs.pools { pool.drain() }
            let running = jobs.pools.reduce(0) { $0 + $1.running }
            if running > 0 {
                Log.notice("Waiting up to \(config.shutdownTimeout) ms for \(running) running job(s)")
                notifier.status("shutting down: waiting up to \(config.shutdownTimeout) ms for \(running) running job(s)")
            }
        }
        if jobs.pools.allSatisfy(\.isIdle) { return finishWorkerPools() }
        let waited = (now - workersDrainStarted) / 1_000_000
        if waited >= config.shutdownTimeout && !workersCanceled {
            workersCanceled = true
            Log.warning("Shutdown timeout: terminating running jobs")
            for pool in jobs.pools { pool.cancelRunning() }
        }
        // Exec'd programs get their kill grace; a handler that never returns is left behind.
        if waited >= config.shutdownTimeout + 3000 { return finishWorkerPools() }
        return false
    }

    private func finishWorkerPools() -> Bool {
        for pool in jobs.pools {
            jobs.handBackRunning(pool, now: keyspace.now)
            if pool.isIdle { pool.stopAll() }
        }
        return true
    }

    // MARK: Reporting

    func workerPoolFields(_ pool: WorkerPool) -> [(String, String)] {
        let s = pool.stats
        return [
            ("queues", pool.spec.name), ("handler", pool.spec.handler.name),
            ("concurrency", String(pool.concurrency)), ("busy", String(pool.busyWorkers)),
            ("idle", String(pool.concurrency - pool.busyWorkers)), ("running", String(pool.running)),
            ("completed", String(s.completed)), ("failed", String(s.failed)), ("timed_out", String(s.timedOut)),
            ("canceled", String(s.canceled)),
            ("mean_ms", Server.millisText(s.meanMillis)), ("p99_ms", Server.millisText(s.p99Millis)),
        ]
    }

    static func millisText(_ value: Double) -> String {
        let rounded = (value * 1000).rounded() / 1000
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }

    /// INFO jobs lines: `worker_pool_0:queues=q,handler=noop,...` (commas in queue names become ';').
    func workerPoolInfoLines() -> [(String, String)] {
        jobs.pools.enumerated().map { index, pool in
            let fields = workerPoolFields(pool).map { name, value in
                "\(name)=\(name == "queues" ? String(value.map { $0 == "," ? ";" : $0 }) : value)"
            }
            return ("worker_pool_\(index)", fields.joined(separator: ","))
        }
    }
}
