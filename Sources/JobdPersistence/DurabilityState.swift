import Synchronization

/// What the engine and the sync thread share, through atomics only (no
/// locks on the write path). Batches are numbered from 1 across files.
public final class DurabilityState: Sendable {
    /// The last batch fully written with write(2) (stored by the engine).
    public let writtenBatch = Atomic<Int64>(0)
    /// The last batch known to be on disk (stored by the sync thread).
    public let durableBatch = Atomic<Int64>(0)
    /// Bytes written to the log files so far, and how many of them are on disk.
    public let writtenBytes = Atomic<Int64>(0)
    public let durableBytes = Atomic<Int64>(0)
    /// The descriptor the sync thread flushes.
    let currentFD = Atomic<Int32>(-1)
    /// The policy in force (FsyncPolicy raw index), changeable at run time.
    let policyIndex = Atomic<Int>(1)
    /// The sync thread is asleep and must be woken for new work.
    let syncerIdle = Atomic<Bool>(false)
    /// The engine holds replies until durability advances: wake it when it does.
    public let engineWaiting = Atomic<Bool>(false)
    let stopRequested = Atomic<Bool>(false)
    /// Monotonic ms when the running fdatasync began, 0 when none is running.
    public let fsyncStartedMillis = Atomic<Int64>(0)
    /// errno of the last failed fdatasync, 0 after a success.
    public let lastFsyncErrno = Atomic<Int32>(0)
    public let fsyncCount = Atomic<Int64>(0)
    /// Test knob (DEBUG AOF-FSYNC-DELAY): each fsync first sleeps this long, like a busy disk.
    public let debugFsyncDelayMillis = Atomic<Int64>(0)
    /// Longest fdatasync so far, in microseconds.
    public let slowestFsyncMicros = Atomic<Int64>(0)
    /// Work for the sync thread besides flushing the current file (rare: file switches).
    let pendingActions = Mutex<[SyncAction]>([])
    /// The last `SyncAction.syncAndClose` notice number completed (for the rewriter).
    public let completedNotice = Atomic<Int64>(0)

    public init() {}

    public var policy: FsyncPolicy {
        get { FsyncPolicy.allCases[policyIndex.load(ordering: .relaxed)] }
        set { policyIndex.store(FsyncPolicy.allCases.firstIndex(of: newValue)!, ordering: .relaxed) }
    }
}

/// File-level work handed to the sync thread when the engine switches files.
enum SyncAction: Sendable {
    /// Flush a descriptor the engine no longer writes to, then close it;
    /// a non-zero notice is published in `completedNotice` when done.
    case syncAndClose(Int32, notice: Int64)
    /// Flush a file by path (a manifest just renamed into place).
    case syncFile(String)
    /// Flush a directory so that a rename inside it survives a crash.
    case syncDirectory(String)
}
