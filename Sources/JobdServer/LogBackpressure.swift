import JobdSystem

/// Replies held until the log is durable (appendfsync always) or written (a
/// stalled disk) sit in client output buffers. A client that keeps
/// pipelining while the disk is slow would grow them without bound, so past
/// `aof-wait-buffer-limit` bytes held in all, the server stops reading from
/// every client until the log catches up and the held replies are down to
/// half the limit: TCP then pushes back on the senders instead of memory
/// growing. Nothing is dropped and nobody is disconnected.
extension Server {
    /// After a command whose reply is held: this client alone may be over the limit.
    @inline(__always)
    func checkHeldReplies(_ client: Client) {
        guard !client.heldReplies.isEmpty, !readsPausedForLog, config.aofWaitBufferLimit > 0,
              let output = client.output, output.readableCount > config.aofWaitBufferLimit,
              let first = client.heldReplies.first, let aof,
              first.batch > (first.needsDurability ? aof.durableBatch : aof.writtenBatch) else { return }
        pauseReadsForLog()
    }

    /// At the end of a turn: all waiting clients together; and a pause ends
    /// here too when durability advanced without a wake-up (a stalled disk's writes).
    func checkHeldRepliesTotal() {
        if readsPausedForLog {
            resumeReadsIfLogCaughtUp()
        } else if config.aofWaitBufferLimit > 0, !clientsWaitingForDurability.isEmpty,
                  heldReplyBytes > config.aofWaitBufferLimit {
            pauseReadsForLog()
        }
    }

    /// Bytes of output waiting in clients whose replies wait for the log.
    var heldReplyBytes: Int {
        clientsWaitingForDurability.reduce(0) { $0 + ($1.closeNow ? 0 : $1.output?.readableCount ?? 0) }
    }

    private func pauseReadsForLog() {
        readsPausedForLog = true
        stats.logBackpressurePauses += 1
        Log.warning("Replies waiting for the append-only log hold over \(config.aofWaitBufferLimit) bytes: not reading from clients until the log catches up")
        for case let client? in clientsByFD { updateInterest(client) }
    }

    /// From durabilityAdvanced: reads resume once the held replies are down to half the limit.
    func resumeReadsIfLogCaughtUp() {
        guard readsPausedForLog, heldReplyBytes <= config.aofWaitBufferLimit / 2 else { return }
        readsPausedForLog = false
        Log.notice("The append-only log caught up: reading from clients again")
        for case let client? in clientsByFD where !client.closeNow {
            updateInterest(client)
            // Commands read before the pause and not run yet.
            if client.pendingInput != nil && !client.isBlocked && !client.queuedForUnblock {
                client.queuedForUnblock = true
                unblockedQueue.append(client)
            }
        }
    }

    /// What epoll should report for `client`: input unless reads are paused, room to write when waiting for it.
    func updateInterest(_ client: Client) {
        var interest: Epoll.Interest = readsPausedForLog ? [] : .readable
        if client.waitingForWritable { interest.insert(.writable) }
        try? epoll.modify(client.fd, token: token(for: client), interest: interest)
    }
}
