import JobdPersistence
import JobdRESP
import JobdStore
import JobdSystem

/// How commands reach the append-only log, and how replies wait for it.
///
/// Handlers record the *effect* of a write (relative expiry times become
/// absolute, pops by blocking commands become plain pops, ...) through
/// `Call.log`. The engine writes the turn's batch right before it writes
/// the turn's replies. Under `appendfsync always`, each reply that depends
/// on a write is held in its connection until the sync thread reports that
/// batch durable; what the same connection sent later waits behind it, so
/// replies stay in order.
extension Server {
    /// Records one command for database `db` in the current batch.
    @inline(__always)
    func log(_ db: Int, _ build: (CommandEncoder) -> Void) {
        dirty &+= 1  // every change is logged, so this counts changes (WATCH relies on it)
        guard let aof, !loading else { return }
        aof.batch.select(db)
        build(aof.batch.encoder)
    }

    /// True when the reply to a write must wait: until the batch is durable
    /// (`always`), or until it is written while the disk is stalled.
    @inline(__always)
    var repliesWaitForLog: Bool {
        guard let aof else { return false }
        return aof.policy == .always || logWritePostponedSince != 0
    }

    /// Remembers that the reply `client` is about to get depends on this turn's batch.
    @inline(__always)
    func holdReplyForDurability(_ client: Client, replyStart: Int64) {
        guard let aof else { return }
        let batch = aof.pendingBatch
        let durable = aof.policy == .always
        if let last = client.heldReplies.last, last.batch == batch, last.needsDurability == durable { return }
        client.heldReplies.append(HeldReply(streamPosition: replyStart, batch: batch, needsDurability: durable))
    }

    /// Writes this turn's batch before any reply that depends on it leaves.
    /// Returns false when the log could not be written: then no reply may be sent this turn.
    func writeLogBatch() -> Bool {
        guard let aof else { return true }
        if aof.batch.isEmpty && !aof.isFailing { return true }
        if postponeForStalledDisk(aof) { return true }
        if aof.writeBatch() {
            if !clientsWaitingForDurability.isEmpty || httpResponsesHeld { durabilityAdvanced() }
            return true
        }
        let now = Clock.monotonicNanos()
        if now - lastLogErrorReport > 1_000_000_000 {
            lastLogErrorReport = now
            Log.warning("Error writing to the AOF file: \(aof.lastWriteError?.description ?? "short write"); replies are held until it can be written")
        }
        return false
    }

    /// everysec: while a background fsync has run for over 2 s the disk is busy;
    /// writing more would only queue behind it, so batches wait (the replies
    /// that depend on them are held, reads still flow). Decided once at the
    /// start of each loop turn, so every write of a turn is treated alike.
    func updateLogStall() {
        guard let aof else { return }
        let started = aof.state.fsyncStartedMillis.load(ordering: .relaxed)
        let now = Clock.monotonicNanos() / 1_000_000
        let stalled = aof.policy == .everysec && started != 0 && now - started > 2000
        if stalled && logWritePostponedSince == 0 {
            logWritePostponedSince = now
            delayedFsyncs += 1
            Log.warning("Asynchronous AOF fsync is taking too long (disk is busy?): running for \(now - started) ms. Delaying log writes and the replies that depend on them until it completes.")
        } else if !stalled && logWritePostponedSince != 0 {
            Log.notice("The AOF fsync completed; writing the delayed log batch (\(aof.batch.payloadSize) bytes)")
            logWritePostponedSince = 0
        }
    }

    /// Past 32 MB a delayed batch is written anyway, so that memory stays bounded.
    private func postponeForStalledDisk(_ aof: AppendOnlyLog) -> Bool {
        guard logWritePostponedSince != 0 else { return false }
        if aof.batch.payloadSize > 32 * 1024 * 1024 {
            Log.warning("Writing the delayed log batch without waiting for the fsync: it reached \(aof.batch.payloadSize) bytes")
            return false
        }
        return true
    }

    /// How many bytes of the client's output may be sent now: all of it,
    /// unless a reply in it waits for a batch that is not durable yet.
    func sendableBytes(_ client: Client, _ out: ByteBuffer) -> Int {
        guard !client.heldReplies.isEmpty, let aof else { return out.readableCount }
        var durable = aof.durableBatch
        let written = aof.writtenBatch
        while true {
            while let first = client.heldReplies.first, first.batch <= (first.needsDurability ? durable : written) {
                client.heldReplies.removeFirst()
            }
            guard let first = client.heldReplies.first else { return out.readableCount }
            if !clientsWaitingForDurability.contains(where: { $0 === client }) {
                clientsWaitingForDurability.append(client)
            }
            // Ask to be woken, then look again: the sync thread may have just published.
            aof.state.engineWaiting.store(true, ordering: .sequentiallyConsistent)
            let again = aof.durableBatch
            if again == durable {
                return Int(min(Int64(out.readableCount), max(0, first.streamPosition - client.bytesSent)))
            }
            durable = again
        }
    }

    /// Called when the sync thread reports progress: clients whose replies
    /// became durable are written this turn.
    func durabilityAdvanced() {
        if !http.connections.isEmpty { releaseHTTPResponses() }
        guard let aof, !clientsWaitingForDurability.isEmpty else { return }
        let durable = aof.durableBatch
        let written = aof.writtenBatch
        var stillWaiting: [Client] = []
        for client in clientsWaitingForDurability where !client.closeNow {
            if let first = client.heldReplies.first, first.batch > (first.needsDurability ? durable : written) {
                stillWaiting.append(client)
                continue
            }
            if !client.queuedForWrite {
                client.queuedForWrite = true
                writeQueue.append(client)
            }
        }
        clientsWaitingForDurability = stillWaiting
        if readsPausedForLog { resumeReadsIfLogCaughtUp() }
        if stillWaiting.isEmpty && !httpResponsesHeld { aof.state.engineWaiting.store(false, ordering: .sequentiallyConsistent) }
    }
}

/// A reply that may not be sent before `batch` is durable (or, while the
/// disk is stalled, written), and everything the connection was sent after it.
struct HeldReply {
    /// Offset of the reply in everything ever queued to this client.
    let streamPosition: Int64
    let batch: Int64
    let needsDurability: Bool
}

extension Call {
    /// Logs the command exactly as the client sent it.
    @inline(__always)
    func logAsIs() {
        let args = self.args
        server.log(client.databaseIndex) { $0.command(args) }
    }

    /// Logs a command built by `build` for the client's database.
    @inline(__always)
    func log(_ build: (CommandEncoder) -> Void) {
        server.log(client.databaseIndex, build)
    }
}
