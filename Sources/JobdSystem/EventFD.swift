import CJobdSystem
import Glibc

/// An eventfd used to wake the event loop from another thread.
public final class EventFD: @unchecked Sendable {
    public let fd: Int32

    public init() throws {
        fd = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        try check("eventfd", Int(fd))
    }

    deinit { FileDescriptor.close(fd) }

    /// Wakes the reader. Safe from any thread.
    public func signal() {
        var one: UInt64 = 1
        _ = retryingInterrupts { Glibc.write(fd, &one, 8) }
    }

    /// Clears pending wakeups; returns how many signals were pending.
    @discardableResult
    public func drain() -> UInt64 {
        var value: UInt64 = 0
        let n = retryingInterrupts { Glibc.read(fd, &value, 8) }
        return n == 8 ? value : 0
    }
}
