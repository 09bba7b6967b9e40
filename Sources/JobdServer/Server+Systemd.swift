import JobdQueue
import JobdSystem

/// What the server tells systemd (SystemdNotifier): loading progress, READY
/// once it serves, a one-line summary every few seconds, STOPPING, and the
/// watchdog pings. Everything here runs in the loop's own turns, so a loop
/// that stops turning stops the pings and systemd restarts the service.
extension Server {
    static let statusIntervalNanos: Int64 = 5_000_000_000
    static let loadingStatusIntervalNanos: Int64 = 250_000_000

    /// Sets the notifier (before `beginLoadingAppendOnlyLog` and `run`).
    public func notify(with notifier: SystemdNotifier) {
        self.notifier = notifier
        nextWatchdogAt = notifier.watchdogIntervalNanos == nil ? Int64.max : Clock.monotonicNanos()
    }

    /// `STATUS=loading N%` while the log loads, a few times a second at most.
    func notifyLoading(_ fraction: Double) {
        guard notifier.isEnabled else { return }
        let now = Clock.monotonicNanos()
        guard now >= nextStatusAt else { return }
        nextStatusAt = now + Server.loadingStatusIntervalNanos
        notifier.status("loading \(Int(fraction * 100))%")
    }

    func notifyReady() {
        guard notifier.isEnabled else { return }
        notifier.ready(status: statusSummary())
        nextStatusAt = Clock.monotonicNanos() + Server.statusIntervalNanos
    }

    /// From the cron: the summary every few seconds while serving.
    func notifyStatusIfDue() {
        guard notifier.isEnabled, !loading, !shutdownRequested else { return }
        let now = Clock.monotonicNanos()
        guard now >= nextStatusAt else { return }
        nextStatusAt = now + Server.statusIntervalNanos
        notifier.status(statusSummary())
    }

    /// Every half `WATCHDOG_USEC` (loopTimeoutMillis wakes the loop for it).
    func pingWatchdog(now: Int64) {
        guard let interval = notifier.watchdogIntervalNanos else { return }
        notifier.watchdog()
        nextWatchdogAt = now + interval
    }

    /// One line for `systemctl status`: clients, queues and their jobs, load, memory.
    /// O(queues the engine tracks): never a walk of the keyspace.
    func statusSummary() -> String {
        var pending = 0, active = 0, delayed = 0, dead = 0
        for (key, queue) in jobs.queues {
            pending += jobs.list(key)?.1.count ?? 0
            active += queue.active
            delayed += queue.delayed
            dead += queue.dead.count
        }
        let workers = jobs.pools.reduce(0) { $0 + $1.concurrency }
        return "\(clientCount) clients, \(jobs.queues.count) queues: \(pending) pending, \(active) active, "
            + "\(delayed) delayed, \(dead) dead; \(workers) workers; \(stats.instantaneousOpsPerSecond) ops/s; "
            + "\(ServerInfo.human(ProcessMemory.allocatedBytes())) used"
    }
}
