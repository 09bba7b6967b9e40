import JobdRESP
import JobdStore
import JobdSystem

/// Accepting, reading, writing and closing client connections.
extension Server {
    func acceptClients(from listener: Int32) {
        // Bounded per turn so a connection storm cannot starve existing clients.
        for _ in 0..<256 {
            guard let (fd, accepted) = Socket.accept(listener) else { return }
            var peer = accepted
            if peer.isUnix { peer.host = config.unixSocket }  // Redis shows the socket path
            stats.connectionsReceived += 1
            let now = Clock.wallMillis()
            if clientCount >= config.maxClients {
                refuse(fd, "-ERR max number of clients reached\r\n")
                continue
            }
            if config.protectedMode && config.requirePass.isEmpty && !peer.isLoopback {
                refuse(fd, Server.protectedModeError)
                continue
            }
            if !peer.isUnix {
                Socket.setNoDelay(fd)
                Socket.setKeepAlive(fd, intervalSeconds: Int32(config.tcpKeepalive))
            }
            let local = peer.isUnix ? peer : Socket.localAddress(fd)
            let client = Client(id: nextClientID, fd: fd, peer: peer, local: local, now: now,
                                authenticated: config.requirePass.isEmpty, limits: requestLimits)
            nextClientID += 1
            do {
                try epoll.add(fd, token: token(for: client), interest: readsPausedForLog ? [] : .readable)
            } catch {
                Log.warning("Error registering fd event for the new client: \(error)")
                FileDescriptor.close(fd)
                continue
            }
            if Int(fd) >= clientsByFD.count {
                clientsByFD.append(contentsOf: repeatElement(nil, count: Int(fd) + 1 - clientsByFD.count))
            }
            clientsByFD[Int(fd)] = client
            clientCount += 1
            Log.verbose("Accepted \(peer.text)")
        }
    }

    /// Writes a final error to a connection we will not serve, then closes it.
    private func refuse(_ fd: Int32, _ message: String) {
        stats.rejectedConnections += 1
        var bytes = Array(message.utf8)
        _ = bytes.withUnsafeMutableBytes { FileDescriptor.write(fd, from: $0.baseAddress!, count: $0.count) }
        FileDescriptor.close(fd)
    }

    static let protectedModeError = "-DENIED jobd is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to jobd you may adopt one of the following solutions: 1) Disable protected mode by sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to jobd from the same host the server is running, however MAKE SURE jobd is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the jobd configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n"

    @inline(__always)
    func token(for client: Client) -> UInt64 {
        UInt64(UInt32(client.fd)) | Server.tokenTag(client.id) << 32
    }

    /// 28 bits of the client id go into its epoll token, so that a stale
    /// event for a reused descriptor is recognised and the top bits stay
    /// free for the listener, signal and wakeup tokens.
    @inline(__always)
    static func tokenTag(_ id: Int64) -> UInt64 { UInt64(truncatingIfNeeded: id) & 0x0FFF_FFFF }

    // MARK: Reading

    func readFromClient(_ client: Client) {
        let buffer: ByteBuffer
        let shared: Bool
        if let pending = client.pendingInput {
            buffer = pending
            shared = false
        } else {
            sharedInput.clear()
            buffer = sharedInput
            shared = true
        }
        // Read a large bulk argument in as few calls as possible.
        let missing = client.parser.bytesNeededForCurrentBulk - buffer.readableCount
        buffer.reserve(max(16 * 1024, missing))
        switch FileDescriptor.read(client.fd, into: buffer.writePointer, count: buffer.writableCount) {
        case let .transferred(n):
            buffer.commitWrite(n)
            stats.netInputBytes += n
        case .wouldBlock:
            return
        case .endOfFile:
            Log.verbose("Client closed connection \(client.peer.text)")
            closeClient(client)
            return
        case let .failed(error):
            Log.verbose("Reading from client: \(error)")
            closeClient(client)
            return
        }
        client.lastInteraction = keyspace.now
        if buffer.readableCount > config.clientQueryBufferLimit {
            Log.warning("Closing client that reached max query buffer length: \(client.peer.text) (qbuf=\(buffer.readableCount))")
            stats.queryBufferLimitDisconnections += 1
            closeClient(client)
            return
        }
        if !client.isBlocked { processInput(client, buffer) }
        if client.closeNow { return }
        keepUnparsedInput(client, buffer, shared: shared)
    }

    /// Keeps what was not executed for the next read: moves it out of the
    /// shared buffer into the client's own, or frees the client's own once empty.
    private func keepUnparsedInput(_ client: Client, _ buffer: ByteBuffer, shared: Bool) {
        if shared {
            if buffer.readableCount > 0 {
                let own = ByteBuffer(capacity: max(1024, buffer.readableCount + buffer.readableCount / 2))
                own.append(buffer.readableBytes)
                client.pendingInput = own
            }
            sharedInput.clear()
        } else if buffer.isEmpty {
            client.pendingInput = nil
        }
    }

    /// Executes every complete command in `buffer`, stopping when the client
    /// blocks, is to be closed, or the rest is incomplete.
    func processInput(_ client: Client, _ buffer: ByteBuffer) {
        while !client.closeAfterReply && !client.closeNow && !client.isBlocked && !readsPausedForLog {
            switch client.parser.parse(buffer, authRequired: !client.authenticated) {
            case .incomplete:
                return
            case .empty:
                client.parser.finishCommand(buffer)
            case let .command(arguments):
                execute(client, arguments)
                client.parser.finishCommand(buffer)
                checkOutputLimits(client)
                checkHeldReplies(client)
            case let .protocolError(message):
                stats.protocolErrors += 1
                Log.verbose("Protocol error (\(message)) from client: \(client.peer.text)")
                writer(for: client).error("ERR " + message)
                client.closeAfterReply = true
                client.parser.reset()
                buffer.clear()
                return
            }
        }
    }

    // MARK: Writing

    /// A reply writer into the client's output, queueing the client for this turn's write.
    @inline(__always)
    func writer(for client: Client) -> ReplyWriter {
        let out: ByteBuffer
        if let existing = client.output {
            out = existing
        } else {
            out = outputPool.take()
            client.output = out
        }
        if !client.queuedForWrite {
            client.queuedForWrite = true
            writeQueue.append(client)
        }
        return ReplyWriter(out: out, version: client.protocolVersion)
    }

    /// Closes clients whose unsent replies pass the configured limits.
    @inline(__always)
    func checkOutputLimits(_ client: Client) {
        guard let out = client.output,
              out.readableCount >= outputLimitCheckFloor || client.softLimitSince != 0 || client.isSubscribed else { return }
        enforceOutputLimits(client, size: out.readableCount)
    }

    private func enforceOutputLimits(_ client: Client, size: Int) {
        // Subscribers have their own class, as in Redis.
        let limit = client.isSubscribed ? pubsubOutputLimit : normalOutputLimit
        var over = limit.hardBytes > 0 && size >= limit.hardBytes
        if !over && limit.softBytes > 0 && size >= limit.softBytes {
            if client.softLimitSince == 0 {
                client.softLimitSince = keyspace.now
            } else if keyspace.now - client.softLimitSince >= Int64(limit.softSeconds) * 1000 {
                over = true
            }
        } else if size < limit.softBytes {
            client.softLimitSince = 0
        }
        if over {
            Log.warning("Client id=\(client.id) addr=\(client.peer.text) closed for overcoming of output buffer limits.")
            stats.outputBufferLimitDisconnections += 1
            scheduleClose(client)
        }
    }

    /// Writes every queued client's replies: one write(2) per client.
    func flushWrites() {
        var i = 0
        while i < writeQueue.count {
            let client = writeQueue[i]
            i += 1
            client.queuedForWrite = false
            if client.closeNow {
                closeClient(client)
                continue
            }
            if clientsByFD[Int(client.fd)] !== client { continue }
            if !client.waitingForWritable { writeOutput(client) }
            if client.closeAfterReply && client.output == nil && clientsByFD[Int(client.fd)] === client {
                closeClient(client)
            }
        }
        writeQueue.removeAll(keepingCapacity: true)
    }

    func writeOutput(_ client: Client) {
        guard let out = client.output else { return }
        let count = sendableBytes(client, out)
        guard count > 0 else {
            // Everything waits for the log to be durable: nothing to do until the sync thread wakes us.
            stopWaitingForWritable(client)
            return
        }
        switch FileDescriptor.write(client.fd, from: out.readPointer, count: count) {
        case let .transferred(n):
            stats.netOutputBytes += n
            client.bytesSent += Int64(n)
            out.consume(n)
            if out.isEmpty {
                client.output = nil
                outputPool.give(out)
                client.softLimitSince = 0
                stopWaitingForWritable(client)
                if client.closeAfterReply { closeClient(client) }
                return
            }
            if n == count && count < out.readableCount {
                stopWaitingForWritable(client)  // the rest is held for durability, not blocked by the socket
                return
            }
            waitForWritable(client)
        case .wouldBlock:
            waitForWritable(client)
        case .endOfFile, .failed:
            closeClient(client)
        }
    }

    private func stopWaitingForWritable(_ client: Client) {
        guard client.waitingForWritable else { return }
        client.waitingForWritable = false
        updateInterest(client)
    }

    private func waitForWritable(_ client: Client) {
        guard !client.waitingForWritable else { return }
        client.waitingForWritable = true
        updateInterest(client)
    }

    // MARK: Closing

    /// Closes `client` at the end of this turn without writing more to it.
    func scheduleClose(_ client: Client) {
        client.closeNow = true
        if !client.queuedForWrite {
            client.queuedForWrite = true
            writeQueue.append(client)
        }
    }

    func closeClient(_ client: Client) {
        guard Int(client.fd) < clientsByFD.count, clientsByFD[Int(client.fd)] === client else { return }
        releaseJobsOf(client)
        if client.isBlocked { blocking.unblock(client) }
        if !client.watching.isEmpty { unwatchAll(client) }
        if client.isSubscribed { unsubscribeAll(client) }
        if !monitors.isEmpty { monitors.removeAll { $0 === client } }
        clientsByFD[Int(client.fd)] = nil
        clientCount -= 1
        epoll.remove(client.fd)
        FileDescriptor.close(client.fd)
        if let out = client.output {
            client.output = nil
            outputPool.give(out)
        }
        client.pendingInput = nil
        client.closeNow = true
    }

    /// The client with this id, if connected.
    func client(withID id: Int64) -> Client? {
        for case let client? in clientsByFD where client.id == id { return client }
        return nil
    }

    var connectedClients: [Client] { clientsByFD.compactMap { $0 } }
}
