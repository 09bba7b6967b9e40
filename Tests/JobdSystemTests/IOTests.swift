import Testing
import Glibc
import JobdSystem

@Suite struct IOTests {
    @Test func monotonicTimeNeverGoesBack() {
        var last = Clock.monotonicNanos()
        for _ in 0..<1000 {
            let now = Clock.monotonicNanos()
            #expect(now >= last)
            last = now
        }
        #expect(abs(Clock.wallMillis() - Int64(time(nil)) * 1000) < 2000)
    }

    @Test func anEventFDSignalledFromAnotherThreadWakesEpoll() throws {
        let epoll = try Epoll()
        let event = try EventFD()
        try epoll.add(event.fd, token: 99, interest: .readable)
        let thread = try Thread(name: "signaller") { [event] in
            usleep(20_000)
            event.signal()
        }
        var tokens: [UInt64] = []
        let start = Clock.monotonicNanos()
        while tokens.isEmpty && Clock.monotonicNanos() - start < 5_000_000_000 {
            epoll.wait(timeoutMillis: 1000) { tokens.append($0.token) }
        }
        thread.join()
        #expect(tokens == [99])
        #expect(event.drain() == 1)
        #expect(epoll.wait(timeoutMillis: 0) { _ in } == 0)
    }

    @Test func aTCPListenerAcceptsAndBytesRoundTrip() throws {
        // Find a free port by binding port 0 on a throwaway socket.
        let probe = try Socket.listenTCP(host: "127.0.0.1", port: 0, backlog: 1)
        let port = Socket.localAddress(probe).port
        FileDescriptor.close(probe)
        let listener = try Socket.listenTCP(host: "127.0.0.1", port: port, backlog: 16)
        defer { FileDescriptor.close(listener) }
        let client = try Socket.connectTCP(host: "127.0.0.1", port: port)
        defer { FileDescriptor.close(client) }
        var accepted: (fd: Int32, peer: Socket.Peer)?
        for _ in 0..<100 where accepted == nil {
            accepted = Socket.accept(listener)
            if accepted == nil { usleep(1000) }
        }
        let server = try #require(accepted)
        defer { FileDescriptor.close(server.fd) }
        #expect(server.peer.isLoopback && server.peer.host == "127.0.0.1")
        var message = Array("hello".utf8)
        #expect(message.withUnsafeMutableBytes { FileDescriptor.write(client, from: $0.baseAddress!, count: 5) } == .transferred(5))
        var received = [UInt8](repeating: 0, count: 16)
        var result = IOResult.wouldBlock
        for _ in 0..<100 {
            result = received.withUnsafeMutableBytes { FileDescriptor.read(server.fd, into: $0.baseAddress!, count: 16) }
            if result != .wouldBlock { break }
            usleep(1000)
        }
        #expect(result == .transferred(5))
        #expect(Array(received[0..<5]) == message)
        FileDescriptor.close(client)
        message = []
    }

    @Test func bindingABadAddressThrows() {
        #expect(throws: SystemError.self) { try Socket.listenTCP(host: "not-an-ip", port: 0, backlog: 1) }
    }
}
