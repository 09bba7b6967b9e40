import CJobdSystem
import Glibc

/// An epoll instance (level-triggered) with a reusable event array.
public final class Epoll {
    public struct Interest: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let readable = Interest(rawValue: EPOLLIN.rawValue)
        public static let writable = Interest(rawValue: EPOLLOUT.rawValue)
    }

    public struct Event {
        /// The token given when the descriptor was registered.
        public let token: UInt64
        public let readable: Bool
        public let writable: Bool
        /// Error or hang-up: the descriptor should be read (to see EOF/error) and closed.
        public let hangup: Bool
    }

    public let fd: Int32
    private let events: UnsafeMutablePointer<epoll_event>
    private let capacity: Int

    public init(maxEventsPerWait: Int = 1024) throws {
        fd = epoll_create1(Int32(EPOLL_CLOEXEC))
        try check("epoll_create1", Int(fd))
        capacity = maxEventsPerWait
        events = .allocate(capacity: maxEventsPerWait)
    }

    deinit {
        events.deallocate()
        FileDescriptor.close(fd)
    }

    public func add(_ descriptor: Int32, token: UInt64, interest: Interest) throws {
        try control(EPOLL_CTL_ADD, descriptor, token, interest)
    }

    public func modify(_ descriptor: Int32, token: UInt64, interest: Interest) throws {
        try control(EPOLL_CTL_MOD, descriptor, token, interest)
    }

    public func remove(_ descriptor: Int32) {
        var ev = epoll_event()
        _ = epoll_ctl(fd, EPOLL_CTL_DEL, descriptor, &ev)
    }

    private func control(_ op: Int32, _ descriptor: Int32, _ token: UInt64, _ interest: Interest) throws {
        var ev = epoll_event()
        ev.events = interest.rawValue
        ev.data.u64 = token
        try check("epoll_ctl", Int(epoll_ctl(fd, op, descriptor, &ev)))
    }

    /// Waits up to `timeoutMillis` (-1: forever) and calls `handle` for each ready descriptor.
    /// Returns the number of events.
    @discardableResult
    public func wait(timeoutMillis: Int32, _ handle: (Event) -> Void) -> Int {
        let n = Int(epoll_wait(fd, events, Int32(capacity), timeoutMillis))
        if n <= 0 { return 0 }  // EINTR or timeout: the caller's loop simply turns again
        for i in 0..<n {
            let raw = events[i]
            let flags = raw.events
            handle(Event(
                token: raw.data.u64,
                readable: flags & EPOLLIN.rawValue != 0,
                writable: flags & EPOLLOUT.rawValue != 0,
                hangup: flags & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0))
        }
        return n
    }
}
