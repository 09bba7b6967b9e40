import Testing
import Glibc
import JobdSystem

/// Repeats `body` until it gives a value or about two seconds pass.
private func eventually<T>(_ body: () -> T?) -> T? {
    for _ in 0..<2000 {
        if let value = body() { return value }
        usleep(1000)
    }
    return nil
}

private func write(_ fd: Int32, _ text: String) -> IOResult {
    var bytes = Array(text.utf8)
    return bytes.withUnsafeMutableBytes { FileDescriptor.write(fd, from: $0.baseAddress!, count: $0.count) }
}

/// One read of up to 4096 bytes.
private func read(_ fd: Int32) -> (IOResult, [UInt8]) {
    var buffer = [UInt8](repeating: 0, count: 4096)
    let result = buffer.withUnsafeMutableBytes { FileDescriptor.read(fd, into: $0.baseAddress!, count: 4096) }
    if case let .transferred(n) = result { return (result, Array(buffer[0..<n])) }
    return (result, [])
}

/// Reads from a non-blocking descriptor until `count` bytes arrived.
private func readExactly(_ fd: Int32, _ count: Int) -> [UInt8] {
    var received: [UInt8] = []
    _ = eventually { () -> Bool? in
        let (result, bytes) = read(fd)
        received += bytes
        if case .endOfFile = result { return true }
        return received.count >= count ? true : nil
    }
    return received
}

private let ipv6LoopbackWorks: Bool = {
    guard let fd = try? Socket.listenTCP(host: "::1", port: 0, backlog: 1) else { return false }
    FileDescriptor.close(fd)
    return true
}()

@Suite struct ClockTests {
    @Test func monotonicTimeNeverGoesBackAndMoves() {
        var last = Clock.monotonicNanos()
        let first = last
        for _ in 0..<10_000 {
            let now = Clock.monotonicNanos()
            #expect(now >= last)
            last = now
        }
        usleep(2000)
        #expect(Clock.monotonicNanos() - first >= 2_000_000)
    }

    @Test func wallClockUnitsAgree() {
        let micros = Clock.wallMicros()
        let millis = Clock.wallMillis()
        #expect(abs(millis - micros / 1000) < 1000)
        #expect(abs(millis - Int64(time(nil)) * 1000) < 2000)
        #expect(millis > 1_600_000_000_000, "after September 2020")
    }

    @Test func processCPUTimeGrowsWithWork() {
        let before = Clock.processCPUSeconds()
        var x: UInt64 = 1
        let start = Clock.monotonicNanos()
        while Clock.monotonicNanos() - start < 30_000_000 { x = x &* 6364136223846793005 &+ 1 }
        let after = Clock.processCPUSeconds()
        #expect(x != 0)
        #expect(before.user >= 0 && before.system >= 0)
        #expect(after.user + after.system > before.user + before.system)
    }
}

@Suite struct EventTests {
    @Test func anEventFDSignalledFromAnotherThreadWakesEpoll() throws {
        let epoll = try Epoll()
        let event = try EventFD()
        try epoll.add(event.fd, token: 99, interest: .readable)
        #expect(epoll.wait(timeoutMillis: 0) { _ in } == 0, "nothing is ready yet")
        let thread = try Thread(name: "signaller") { [event] in
            usleep(20_000)
            event.signal()
        }
        var events: [Epoll.Event] = []
        let start = Clock.monotonicNanos()
        while events.isEmpty && Clock.monotonicNanos() - start < 5_000_000_000 {
            epoll.wait(timeoutMillis: 1000) { events.append($0) }
        }
        thread.join()
        #expect(events.map(\.token) == [99])
        #expect(events.first?.readable == true && events.first?.writable == false && events.first?.hangup == false)
        #expect(event.drain() == 1)
        #expect(epoll.wait(timeoutMillis: 0) { _ in } == 0, "draining clears the wakeup")
    }

    @Test func signalsAccumulateUntilDrained() throws {
        let event = try EventFD()
        #expect(event.drain() == 0)
        for _ in 0..<5 { event.signal() }
        #expect(event.drain() == 5)
        #expect(event.drain() == 0)
    }

    @Test func signalsFromManyThreadsAreAllCounted() throws {
        let event = try EventFD()
        let threads = try (0..<4).map { i in
            try Thread(name: "signaller-\(i)") { [event] in for _ in 0..<250 { event.signal() } }
        }
        for thread in threads { thread.join() }
        #expect(event.drain() == 1000)
    }

    @Test func aRemovedDescriptorReportsNothing() throws {
        let epoll = try Epoll()
        let event = try EventFD()
        try epoll.add(event.fd, token: 1, interest: .readable)
        event.signal()
        #expect(epoll.wait(timeoutMillis: 0) { _ in } == 1)
        epoll.remove(event.fd)
        #expect(epoll.wait(timeoutMillis: 0) { _ in } == 0)
        // Adding it twice is an error the caller sees.
        try epoll.add(event.fd, token: 2, interest: .readable)
        #expect(throws: SystemError.self) { try epoll.add(event.fd, token: 3, interest: .readable) }
    }

    @Test func aWaitWithATimeoutReturnsAfterIt() throws {
        let epoll = try Epoll()
        let start = Clock.monotonicNanos()
        #expect(epoll.wait(timeoutMillis: 30) { _ in Issue.record("no event expected") } == 0)
        #expect(Clock.monotonicNanos() - start >= 25_000_000)
    }

    @Test func threadsRunTheirBodyAndJoin() throws {
        let event = try EventFD()
        let thread = try Thread(name: "a-very-long-thread-name-that-is-truncated") { [event] in event.signal() }
        thread.join()
        #expect(event.drain() == 1)
    }
}

@Suite struct SocketTests {
    @Test func aListenerOnPortZeroGetsAPortFromTheSystem() throws {
        let listener = try Socket.listenTCP(host: "127.0.0.1", port: 0, backlog: 16)
        defer { FileDescriptor.close(listener) }
        let local = Socket.localAddress(listener)
        #expect(local.port > 0 && local.port <= 65535)
        #expect(local.host == "127.0.0.1" && local.isLoopback && !local.isUnix)
        #expect(local.text == "127.0.0.1:\(local.port)")
        // No client yet: accept says so instead of blocking.
        #expect(Socket.accept(listener) == nil)
    }

    @Test func aTCPConnectionCarriesBytesBothWaysAndReportsTheClose() throws {
        let listener = try Socket.listenTCP(host: "127.0.0.1", port: 0, backlog: 16)
        defer { FileDescriptor.close(listener) }
        let port = Socket.localAddress(listener).port
        let client = try Socket.connectTCP(host: "127.0.0.1", port: port)
        var clientOpen = true
        defer { if clientOpen { FileDescriptor.close(client) } }
        let server = try #require(eventually { Socket.accept(listener) })
        defer { FileDescriptor.close(server.fd) }
        #expect(server.peer.isLoopback && server.peer.host == "127.0.0.1")
        #expect(server.peer.port == Socket.localAddress(client).port, "the peer is the client's address")
        #expect(Socket.localAddress(server.fd).port == port)
        Socket.setNoDelay(server.fd)
        Socket.setKeepAlive(server.fd, intervalSeconds: 300)

        // The accepted socket is non-blocking: no data yet is a value, not a wait.
        #expect(read(server.fd).0 == .wouldBlock)
        #expect(write(client, "*1\r\n$4\r\nPING\r\n") == .transferred(14))
        #expect(readExactly(server.fd, 14) == Array("*1\r\n$4\r\nPING\r\n".utf8))
        #expect(write(server.fd, "+PONG\r\n") == .transferred(7))
        #expect(readExactly(client, 7) == Array("+PONG\r\n".utf8))

        FileDescriptor.close(client)
        clientOpen = false
        let closed = eventually { () -> IOResult? in
            let (result, _) = read(server.fd)
            return result == .wouldBlock ? nil : result
        }
        #expect(closed == .endOfFile)
    }

    @Test func manyBytesArriveIntactThroughANonBlockingSocket() throws {
        let listener = try Socket.listenTCP(host: "127.0.0.1", port: 0, backlog: 16)
        defer { FileDescriptor.close(listener) }
        let client = try Socket.connectTCP(host: "127.0.0.1", port: Socket.localAddress(listener).port)
        defer { FileDescriptor.close(client) }
        let server = try #require(eventually { Socket.accept(listener) })
        defer { FileDescriptor.close(server.fd) }
        let payload = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let writer = try Thread(name: "writer") {
            payload.withUnsafeBytes { try? FileDescriptor.writeAll(client, $0) }
        }
        let received = readExactly(server.fd, payload.count)
        writer.join()
        #expect(received.count == payload.count)
        #expect(received == payload)
    }

    @Test(.enabled(if: ipv6LoopbackWorks, "needs IPv6 on the loopback interface"))
    func anIPv6ListenerAcceptsIPv6Clients() throws {
        let listener = try Socket.listenTCP(host: "::1", port: 0, backlog: 16)
        defer { FileDescriptor.close(listener) }
        let local = Socket.localAddress(listener)
        #expect(local.host == "::1" && local.isLoopback && local.port > 0)
        let client = try Socket.connectTCP(host: "::1", port: local.port)
        defer { FileDescriptor.close(client) }
        let server = try #require(eventually { Socket.accept(listener) })
        defer { FileDescriptor.close(server.fd) }
        #expect(server.peer.host == "::1" && server.peer.isLoopback)
        #expect(server.peer.text == "::1:\(server.peer.port)")
    }

    @Test func bindingABadAddressOrABusyPortThrows() throws {
        #expect(throws: SystemError.self) { try Socket.listenTCP(host: "not-an-ip", port: 0, backlog: 1) }
        #expect(throws: SystemError.self) { try Socket.listenTCP(host: "::zz", port: 0, backlog: 1) }
        let listener = try Socket.listenTCP(host: "127.0.0.1", port: 0, backlog: 1)
        defer { FileDescriptor.close(listener) }
        let port = Socket.localAddress(listener).port
        #expect(throws: SystemError.self) { try Socket.listenTCP(host: "127.0.0.1", port: port, backlog: 1) }
    }

    @Test func connectingToSomethingThatIsNotAnAddressThrows() throws {
        // With a listener on 127.0.0.1, an unparsed host must not quietly become 0.0.0.0 (this machine).
        let listener = try Socket.listenTCP(host: "127.0.0.1", port: 0, backlog: 4)
        defer { FileDescriptor.close(listener) }
        let port = Socket.localAddress(listener).port
        for host in ["not-an-ip", "example.com", "", "::zz"] {
            #expect(throws: SystemError.self, "\(host)") {
                let fd = try Socket.connectTCP(host: host, port: port)
                FileDescriptor.close(fd)
            }
        }
    }

    @Test func connectingToAClosedPortThrows() throws {
        let listener = try Socket.listenTCP(host: "127.0.0.1", port: 0, backlog: 1)
        let port = Socket.localAddress(listener).port
        FileDescriptor.close(listener)
        #expect(throws: SystemError.self) { try Socket.connectTCP(host: "127.0.0.1", port: port) }
    }

    @Test func aUnixSocketListenerAcceptsAndReportsAUnixPeer() throws {
        let path = "/tmp/jobd-unit-\(getpid()).sock"
        let listener = try Socket.listenUnix(path: path, mode: 0o700, backlog: 4)
        defer { FileDescriptor.close(listener); unlink(path) }
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o700)
        let client = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { FileDescriptor.close(client) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: Array(path.utf8))
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(rc == 0)
        let server = try #require(eventually { Socket.accept(listener) })
        defer { FileDescriptor.close(server.fd) }
        #expect(server.peer.isUnix && server.peer.isLoopback)
        #expect(throws: SystemError.self) { try Socket.listenUnix(path: "/tmp/" + String(repeating: "x", count: 200), mode: 0, backlog: 1) }
    }
}

@Suite struct FileTests {
    @Test func aTextFileReadsBackWholeAndAMissingOneIsNil() throws {
        let path = "/tmp/jobd-unit-\(getpid()).txt"
        defer { unlink(path) }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        #expect(fd >= 0)
        let text = String(repeating: "line é\n", count: 20_000)  // more than one 64 KiB read
        try Array(text.utf8).withUnsafeBytes { try FileDescriptor.writeAll(fd, $0) }
        FileDescriptor.close(fd)
        #expect(FileDescriptor.readTextFile(path) == text)
        #expect(FileDescriptor.readTextFile("/nonexistent/jobd") == nil)
    }

    @Test func systemErrorsNameTheCallAndTheReason() {
        let error = SystemError("bind 1.2.3.4:5", errno: EADDRINUSE)
        #expect(error.description == "bind 1.2.3.4:5: Address already in use")
        #expect(error == SystemError("bind 1.2.3.4:5", errno: EADDRINUSE))
    }
}

@Suite struct LogTests {
    @Test func linesBelowTheLevelAreDroppedAndOthersCarryTheirMarker() throws {
        let path = "/tmp/jobd-unit-log-\(getpid()).txt"
        defer { unlink(path) }
        let savedLevel = Log.level
        defer { Log.level = savedLevel; try? Log.setFile("") }
        try Log.setFile(path)
        Log.level = .verbose
        Log.debug("hidden")
        Log.verbose("shown verbose")
        Log.notice("shown notice")
        Log.warning("shown warning")
        let lines = try #require(FileDescriptor.readTextFile(path)).split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines.map { $0.split(separator: " ").dropFirst(5).first.map(String.init) } == ["-", "*", "#"])
        #expect(lines.allSatisfy { $0.hasPrefix("\(getpid()):M ") })
        #expect(lines.last?.hasSuffix(" # shown warning") == true)
        #expect(!lines.contains { $0.contains("hidden") })
        #expect(throws: SystemError.self) { try Log.setFile("/nonexistent-dir/jobd.log") }
    }

    @Test func levelsAreOrderedAndNamed() {
        #expect(LogLevel.debug < .verbose && LogLevel.verbose < .notice && LogLevel.notice < .warning)
        #expect(LogLevel.allCases.map(\.name) == ["debug", "verbose", "notice", "warning"])
    }

    @Test func processMemoryIsReported() {
        #expect(ProcessMemory.residentBytes() > 1_000_000)
        // Under AddressSanitizer malloc is ASan's, and glibc's mallinfo2 knows nothing of it.
        let underAddressSanitizer = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__asan_init") != nil
        if !underAddressSanitizer { #expect(ProcessMemory.allocatedBytes() > 0) }
    }
}
