import Glibc

/// RLIMIT_NOFILE: how many descriptors the process may hold.
public enum OpenFilesLimit {
    /// Raises the soft limit toward `wanted` (never above the hard limit, never
    /// lowers it); returns the soft limit now in force.
    public static func raise(to wanted: Int) -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        let current = Int(clamping: limit.rlim_cur)
        if current >= wanted { return current }
        let target = min(rlim_t(wanted), limit.rlim_max)  // RLIM_INFINITY is the largest value
        limit.rlim_cur = target
        return setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 ? Int(target) : current
    }
}
