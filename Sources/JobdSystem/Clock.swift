import CJobdSystem
import Glibc

/// Time sources. The engine reads these once per loop turn and passes the
/// values down, so everything below it can be driven by a fake clock in tests.
public enum Clock {
    /// Monotonic nanoseconds (CLOCK_MONOTONIC): for durations and deadlines.
    @inline(__always)
    public static func monotonicNanos() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// Wall-clock microseconds since the Unix epoch (CLOCK_REALTIME).
    @inline(__always)
    public static func wallMicros() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
    }

    /// Wall-clock milliseconds since the Unix epoch: the unit of key expiry times.
    @inline(__always)
    public static func wallMillis() -> Int64 { wallMicros() / 1000 }

    /// A cheap tick counter (see cjobd_ticks) and its rate, measured once.
    @inline(__always)
    public static func ticks() -> UInt64 { cjobd_ticks() }

    /// Ticks per microsecond, measured over about 10 ms the first time it is read.
    public static let ticksPerMicrosecond: Double = {
        let startNanos = monotonicNanos(), startTicks = ticks()
        var request = timespec(tv_sec: 0, tv_nsec: 10_000_000)
        nanosleep(&request, nil)
        let nanos = Double(monotonicNanos() - startNanos), elapsed = Double(ticks() &- startTicks)
        return max(elapsed / (nanos / 1000), 0.001)
    }()

    /// CPU time used by this process (user, system) in seconds.
    public static func processCPUSeconds() -> (user: Double, system: Double) {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        return (user, system)
    }
}
