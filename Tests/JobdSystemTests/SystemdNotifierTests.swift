import Testing
import Glibc
import JobdSystem

// SystemdNotifier against a datagram socket the test binds (a path and an
// abstract name), as systemd's notify socket would be; and the journald
// stream check of Log.

/// A bound AF_UNIX datagram socket; `address` as $NOTIFY_SOCKET would name it.
private final class Receiver {
    let fd: Int32
    let address: String

    /// `name` starting with "@": abstract namespace; otherwise a path.
    init(_ name: String) throws {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(fd >= 0)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(name.utf8)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: bytes)
            if name.hasPrefix("@") { raw[0] = 0 }
        }
        let length = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count + (name.hasPrefix("@") ? 0 : 1)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(length)) }
        }
        try #require(rc == 0, "bind \(name): \(String(cString: strerror(errno)))")
        self.fd = fd
        address = name
    }

    deinit {
        close(fd)
        if !address.hasPrefix("@") { unlink(address) }
    }

    /// The next datagram as text (nil after 5 s without one).
    func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n < 0 ? nil : String(decoding: buffer[0..<n], as: UTF8.self)
    }
}

private func uniqueName() -> String { "jobd-notify-test-\(getpid())-\(Int.random(in: 0..<1_000_000_000))" }

@Test func notifierSendsDatagramsToAPathSocket() throws {
    let receiver = try Receiver("/tmp/\(uniqueName()).sock")
    let notifier = SystemdNotifier(socket: receiver.address)
    #expect(notifier.isEnabled)
    notifier.ready(status: "serving")
    #expect(receiver.receive() == "READY=1\nSTATUS=serving")
    notifier.stopping(status: "bye")
    #expect(receiver.receive() == "STOPPING=1\nSTATUS=bye")
}

@Test func notifierReachesTheAbstractNamespace() throws {
    let receiver = try Receiver("@" + uniqueName())
    let notifier = SystemdNotifier(socket: receiver.address)
    notifier.status("loading 43%")
    #expect(receiver.receive() == "STATUS=loading 43%")
    notifier.watchdog()
    #expect(receiver.receive() == "WATCHDOG=1")
}

@Test func reloadingCarriesTheMonotonicClock() throws {
    let receiver = try Receiver("@" + uniqueName())
    let before = Clock.monotonicNanos() / 1000
    SystemdNotifier(socket: receiver.address).reloading()
    let after = Clock.monotonicNanos() / 1000
    let lines = try #require(receiver.receive()).split(separator: "\n")
    #expect(lines.first == "RELOADING=1")
    let stamp = try #require(lines.first { $0.hasPrefix("MONOTONIC_USEC=") }.flatMap { Int64($0.dropFirst(15)) })
    #expect(stamp >= before && stamp <= after)
}

@Test func aStatusIsOneLine() throws {
    let receiver = try Receiver("@" + uniqueName())
    SystemdNotifier(socket: receiver.address).status("line one\nline two")
    #expect(receiver.receive() == "STATUS=line one line two")
}

@Test func withoutASocketNothingIsSent() {
    #expect(!SystemdNotifier().isEnabled)
    #expect(!SystemdNotifier().send("READY=1"))
    // Only absolute paths and abstract names are addresses (sd_notify ignores others).
    #expect(!SystemdNotifier(socket: "relative/notify").isEnabled)
    #expect(!SystemdNotifier(socket: "").isEnabled)
    #expect(!SystemdNotifier(socket: "/" + String(repeating: "x", count: 200)).isEnabled)
    // A socket nobody listens on: sending fails, quietly.
    #expect(!SystemdNotifier(socket: "/tmp/\(uniqueName()).missing").send("READY=1"))
}

@Test func theWatchdogIsPingedAtHalfItsTimeout() {
    #expect(SystemdNotifier(watchdogMicros: 30_000_000).watchdogIntervalNanos == 15_000_000_000)
    #expect(SystemdNotifier(watchdogMicros: 0).watchdogIntervalNanos == nil)
    #expect(SystemdNotifier().watchdogIntervalNanos == nil)
}

@Test func journalStreamMustNameTheFileStderrIsOn() throws {
    let path = "/tmp/\(uniqueName()).log"
    let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
    try #require(fd >= 0)
    defer { close(fd); unlink(path) }
    var info = stat()
    try #require(fstat(fd, &info) == 0)
    #expect(Log.stderrIsJournal("\(info.st_dev):\(info.st_ino)", fd: fd))
    #expect(!Log.stderrIsJournal("\(info.st_dev):\(info.st_ino + 1)", fd: fd))
    #expect(!Log.stderrIsJournal(nil, fd: fd))
    #expect(!Log.stderrIsJournal("garbage", fd: fd))
    #expect(!Log.stderrIsJournal("\(info.st_dev):\(info.st_ino)", fd: -1))
}
