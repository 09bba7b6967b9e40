import CJobdSystem
import Glibc

/// systemd's notify protocol (sd_notify(3)) without libsystemd: each
/// message is one datagram of `KEY=VALUE` lines sent to the AF_UNIX socket
/// named by `$NOTIFY_SOCKET` (a path, or `@name` for the abstract
/// namespace). With no socket every call does nothing, so the server can
/// notify unconditionally.
public final class SystemdNotifier {
    /// The socket's address; nil when not running under a notify-aware manager.
    private var address: sockaddr_un?
    private var addressLength: socklen_t = 0
    private var fd: Int32 = -1
    /// Half of `$WATCHDOG_USEC` (systemd's advice), when the watchdog is on for this process.
    public let watchdogIntervalNanos: Int64?

    /// `socket`: the value of `$NOTIFY_SOCKET`; `watchdogMicros`: `$WATCHDOG_USEC` (already
    /// checked against `$WATCHDOG_PID`). With neither, a notifier that never sends.
    public init(socket: String? = nil, watchdogMicros: Int64? = nil) {
        if let micros = watchdogMicros, micros > 0 {
            watchdogIntervalNanos = micros * 1000 / 2
        } else {
            watchdogIntervalNanos = nil
        }
        guard let socket, let (address, length) = SystemdNotifier.address(socket) else { return }
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        // A manager that stops reading must not stall the event loop for long.
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        self.fd = fd
        self.address = address
        addressLength = length
    }

    deinit { if fd >= 0 { FileDescriptor.close(fd) } }

    /// Reads `$NOTIFY_SOCKET`, `$WATCHDOG_USEC` and `$WATCHDOG_PID`, then
    /// removes them from the environment. Programs the server starts
    /// (exec worker handlers) copy its environment: left there, a child that
    /// speaks the protocol itself would report READY or STOPPING, or ping
    /// the watchdog, on jobd's behalf — the manager would believe the child
    /// (with NotifyAccess=all) or log refusals (NotifyAccess=main). Call at
    /// start-up on the main thread, before other threads exist (unsetenv is
    /// not thread-safe).
    public static func fromEnvironment() -> SystemdNotifier {
        let socket = environment("NOTIFY_SOCKET")
        var watchdog: Int64? = environment("WATCHDOG_USEC").flatMap { Int64($0) }
        // WATCHDOG_PID names the process the watchdog is meant for (not us: a forking parent).
        if let pid = environment("WATCHDOG_PID"), Int32(pid) != getpid() { watchdog = nil }
        for name in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] { unsetenv(name) }
        return SystemdNotifier(socket: socket, watchdogMicros: watchdog)
    }

    private static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }

    /// True when messages go somewhere.
    public var isEnabled: Bool { fd >= 0 }

    /// Sends one message (lines joined with newlines); false if it could not be sent.
    @discardableResult
    public func send(_ lines: String...) -> Bool {
        guard fd >= 0, var address else { return false }
        let message = Array(lines.joined(separator: "\n").utf8)
        let sent = message.withUnsafeBytes { bytes in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                    sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), socketAddress, addressLength)
                }
            }
        }
        return sent == message.count
    }

    /// `READY=1` with a status line.
    public func ready(status: String) { send("READY=1", SystemdNotifier.statusLine(status)) }

    public func status(_ text: String) { send(SystemdNotifier.statusLine(text)) }

    public func stopping(status: String) { send("STOPPING=1", SystemdNotifier.statusLine(status)) }

    /// Each line of a message is one assignment: a status must be one line.
    static func statusLine(_ text: String) -> String {
        "STATUS=" + String(text.map { $0.isNewline ? " " : $0 })
    }

    /// Starts a reload: systemd (253+) holds `systemctl reload` until the next `READY=1`.
    /// MONOTONIC_USEC lets it match this message to the reload it asked for.
    public func reloading() {
        send("RELOADING=1", "MONOTONIC_USEC=\(Clock.monotonicNanos() / 1000)", "STATUS=reloading the configuration")
    }

    public func watchdog() { send("WATCHDOG=1") }

    /// The address in `$NOTIFY_SOCKET`: an absolute path, or `@name` for the
    /// abstract namespace (a leading NUL byte and no terminator, so the length
    /// must cover exactly the name).
    static func address(_ text: String) -> (sockaddr_un, socklen_t)? {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, first == UInt8(ascii: "/") || first == UInt8(ascii: "@") else { return nil }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { return nil }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)!
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            if first == UInt8(ascii: "@") { raw[0] = 0 }
        }
        // A path is NUL-terminated (the zeroed byte after it); an abstract name is not.
        let length = pathOffset + bytes.count + (first == UInt8(ascii: "@") ? 0 : 1)
        return (address, socklen_t(length))
    }
}
