import CJobdSystem
import Glibc

/// Shutdown and reload signals delivered as a readable descriptor, so the
/// event loop handles them in its own turn instead of in a signal handler.
public final class ShutdownSignals {
    public enum Signal: Sendable { case terminate, interrupt, hangup }

    public let fd: Int32

    /// Blocks SIGTERM/SIGINT/SIGHUP in the calling thread (call before
    /// starting other threads so they inherit the mask) and ignores SIGPIPE.
    public init() throws {
        cjobd_ignore_sigpipe()
        fd = cjobd_signalfd_for_shutdown()
        try check("signalfd", Int(fd))
    }

    deinit { FileDescriptor.close(fd) }

    /// The signals that arrived since the last call.
    public func drain() -> [Signal] {
        var result: [Signal] = []
        var info = signalfd_siginfo()
        let size = MemoryLayout<signalfd_siginfo>.size
        while Glibc.read(fd, &info, size) == size {
            switch Int32(info.ssi_signo) {
            case SIGTERM: result.append(.terminate)
            case SIGINT: result.append(.interrupt)
            case SIGHUP: result.append(.hangup)
            default: break
            }
        }
        return result
    }

    /// Ignores SIGPIPE (for programs that do not need the signalfd).
    public static func ignoreBrokenPipe() { cjobd_ignore_sigpipe() }
}
