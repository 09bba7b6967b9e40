import JobdRESP
import JobdSystem

struct HTTPListenError: Error, CustomStringConvertible {
    let description: String
}

/// What the engine keeps for the HTTP port.
struct HTTPState {
    var connections: [Int32: HTTPConnection] = [:]
    var nextID: Int64 = 1
    var parser = HTTPRequestParser()
    /// Requests answered, by status class, for INFO.
    var requests = 0
    /// Connections whose response waits for the log.
    var heldResponses = 0
    var rejectedConnections = 0
}

/// The HTTP port: accepted, read and written by the engine loop like RESP
/// clients, but with its own connections, parser and limits. A slow client
/// (slowloris) gets `httpRequestTimeout` to send a whole request; an idle
/// keep-alive connection is closed after `httpIdleTimeout`.
extension Server {
    static let httpToken: UInt64 = 1 << 63
    static let httpRequestTimeoutMillis: Int64 = 10_000
    static let httpIdleTimeoutMillis: Int64 = 60_000

    /// At most this many HTTP connections at once: maxclients, up to 1024
    /// (a dashboard and a few scrapers need a handful).
    static func httpMaxConnections(_ config: ServerConfig) -> Int { min(config.maxClients, 1024) }

    static func monotonicMillis() -> Int64 { Clock.monotonicNanos() / 1_000_000 }

    func openHTTPListeners() throws {
        guard config.httpPort != 0 else { return }
        for address in config.httpBind {
            let fd: Int32
            do {
                fd = try Socket.listenTCP(host: address, port: config.httpPort, backlog: Int32(config.tcpBacklog))
            } catch {
                throw HTTPListenError(description: "HTTP port \(address):\(config.httpPort): \(error) (set http-port to another port, or 0 to turn HTTP off)")
            }
            try addListener(fd, "http://\(address.contains(":") ? "[\(address)]" : address):\(config.httpPort)", isHTTP: true)
        }
    }

    func acceptHTTPConnections(from listener: Int32) {
        for _ in 0..<64 {
            guard let (fd, peer) = Socket.accept(listener) else { return }
            // The HTTP port has its own budget, so a flood on one port cannot lock the other out.
            if http.connections.count >= Server.httpMaxConnections(config) {
                http.rejectedConnections += 1
                stats.rejectedConnections += 1
                let refusal = HTTPResponse.text(503, "max number of clients reached\n").encoded(keepAlive: false)
                refusal.withUnsafeBytes { _ = FileDescriptor.write(fd, from: $0.baseAddress!, count: $0.count) }
                FileDescriptor.close(fd)
                continue
            }
            Socket.setNoDelay(fd)
            let connection = HTTPConnection(id: http.nextID, fd: fd, peer: peer, now: Server.monotonicMillis())
            http.nextID += 1
            do {
                try epoll.add(fd, token: httpToken(for: connection), interest: .readable)
            } catch {
                FileDescriptor.close(fd)
                continue
            }
            http.connections[fd] = connection
        }
    }

    func httpToken(for connection: HTTPConnection) -> UInt64 {
        Server.httpToken | Server.tokenTag(connection.id) << 32 | UInt64(UInt32(connection.fd))
    }

    func handleHTTPEvent(_ event: Epoll.Event) {
        let fd = Int32(truncatingIfNeeded: event.token & 0xFFFF_FFFF)
        guard let connection = http.connections[fd], httpToken(for: connection) == event.token else { return }
        if event.writable { writeHTTPOutput(connection) }
        if http.connections[fd] === connection && (event.readable || event.hangup) { readHTTP(connection) }
    }

    private func readHTTP(_ connection: HTTPConnection) {
        // Read through the engine's shared input buffer (RESP reads leave it empty between events).
        sharedInput.clear()
        sharedInput.reserve(16 * 1024)
        switch FileDescriptor.read(connection.fd, into: sharedInput.writePointer, count: sharedInput.writableCount) {
        case let .transferred(n):
            sharedInput.commitWrite(n)
            connection.input += sharedInput.readableBytes
            sharedInput.clear()
            // Only a client pipelining behind a held response gets here: no request is this large.
            if connection.input.count > http.parser.limits.maxHeaderBytes + http.parser.limits.maxBody + 4 {
                closeHTTP(connection)
                return
            }
        case .wouldBlock:
            return
        case .endOfFile, .failed:
            closeHTTP(connection)
            return
        }
        let now = Server.monotonicMillis()
        connection.lastActivity = now
        if connection.requestStartedAt == 0 { connection.requestStartedAt = now }
        // While a response waits for the log, later requests wait behind it (answers stay in order).
        if connection.heldUntilBatch == 0 { processHTTPInput(connection) }
    }

    func processHTTPInput(_ connection: HTTPConnection) {
        while !connection.closeAfterWrite && connection.heldUntilBatch == 0 && !connection.input.isEmpty {
            let result = connection.input.withUnsafeBytes { http.parser.parse($0) }
            switch result {
            case .incomplete:
                break
            case let .failure(status, reason):
                Log.verbose("HTTP \(status) (\(reason)) from \(connection.peer.text)")
                queueHTTP(connection, HTTPResponse.text(status, reason + "\n"), keepAlive: false, headOnly: false)
                connection.input.removeAll()
            case let .request(request, consumed):
                connection.input.removeFirst(consumed)
                connection.requestStartedAt = connection.input.isEmpty ? 0 : Server.monotonicMillis()
                http.requests += 1
                let logged = aof?.batch.payloadSize ?? 0
                let response = respond(to: request)
                if let aof, aof.batch.payloadSize != logged, repliesWaitForLog {
                    connection.heldUntilBatch = aof.pendingBatch
                    http.heldResponses += 1
                    aof.state.engineWaiting.store(true, ordering: .sequentiallyConsistent)
                }
                queueHTTP(connection, response, keepAlive: request.keepAlive, headOnly: request.method == "HEAD")
                continue
            }
            break
        }
        if connection.heldUntilBatch == 0 { writeHTTPOutput(connection) }
    }

    private func queueHTTP(_ connection: HTTPConnection, _ response: HTTPResponse, keepAlive: Bool, headOnly: Bool) {
        let keep = keepAlive && !shutdownRequested && response.status < 400
        connection.output += response.encoded(keepAlive: keep, headOnly: headOnly)
        if !keep { connection.closeAfterWrite = true }
    }

    /// Releases responses that waited for the log (called when durability advances).
    func releaseHTTPResponses() {
        guard let aof else { return }
        let durable = aof.policy == .always ? aof.durableBatch : aof.writtenBatch
        for connection in http.connections.values where connection.heldUntilBatch != 0 && connection.heldUntilBatch <= durable {
            connection.heldUntilBatch = 0
            http.heldResponses -= 1
            processHTTPInput(connection)
        }
    }

    /// Checked on every log batch written: a counter, not a scan of the connections.
    var httpResponsesHeld: Bool { http.heldResponses > 0 }

    func writeHTTPOutput(_ connection: HTTPConnection) {
        while connection.hasOutput {
            let result = connection.output.withUnsafeBytes { bytes in
                FileDescriptor.write(connection.fd, from: bytes.baseAddress! + connection.written,
                                     count: bytes.count - connection.written)
            }
            switch result {
            case let .transferred(n):
                connection.written += n
                connection.lastActivity = Server.monotonicMillis()
            case .wouldBlock:
                if !connection.waitingForWritable {
                    connection.waitingForWritable = true
                    try? epoll.modify(connection.fd, token: httpToken(for: connection), interest: [.readable, .writable])
                }
                return
            case .endOfFile, .failed:
                closeHTTP(connection)
                return
            }
        }
        connection.output.removeAll(keepingCapacity: connection.output.count <= 64 * 1024)
        connection.written = 0
        if connection.waitingForWritable {
            connection.waitingForWritable = false
            try? epoll.modify(connection.fd, token: httpToken(for: connection), interest: .readable)
        }
        if connection.closeAfterWrite { closeHTTP(connection) }
    }

    func closeHTTP(_ connection: HTTPConnection) {
        guard http.connections[connection.fd] === connection else { return }
        if connection.heldUntilBatch != 0 { http.heldResponses -= 1 }
        http.connections[connection.fd] = nil
        epoll.remove(connection.fd)
        FileDescriptor.close(connection.fd)
    }

    /// From the cron, once a second: closes connections that take too long
    /// to send a request, or sit idle between requests.
    func expireHTTPConnections() {
        guard !http.connections.isEmpty else { return }
        let now = Server.monotonicMillis()
        var idleLimit = Server.httpIdleTimeoutMillis
        if config.timeout > 0 { idleLimit = min(idleLimit, Int64(config.timeout) * 1000) }
        for connection in Array(http.connections.values) where connection.heldUntilBatch == 0 {
            if connection.requestStartedAt != 0 && now - connection.requestStartedAt > Server.httpRequestTimeoutMillis {
                queueHTTP(connection, .text(408, "request timeout\n"), keepAlive: false, headOnly: false)
                writeHTTPOutput(connection)
            } else if now - connection.lastActivity > idleLimit {
                closeHTTP(connection)
            }
        }
    }

    func closeHTTPConnections() {
        for connection in Array(http.connections.values) { closeHTTP(connection) }
    }
}
