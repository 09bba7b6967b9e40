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
        guard let aof, !loading else { return }
        aof.batch.select(db)
        build(aof.batch.encoder)
    }

    /// Remembers that the reply `client` is about to get depends on this turn's batch.
    @inline(__always)
    func holdReplyForDurability(_ client: Client, replyStart: Int64) {
        guard let aof else { return }
        let batch = aof.pendingBatch
        if let last = client.heldReplies.last, last.batch == batch { return }
        client.heldReplies.append(HeldReply(streamPosition: replyStart, batch: batch))
    }

    /// Writes this turn's batch before any reply leaves. Returns false when the
    /// log could not be written: then no reply may be sent this turn.
    func writeLogBatch() -> Bool {
        guard let aof else { return true }
        if aof.batch.isEmpty && !aof.isFailing { return true }
        if aof.writeBatch() { return true }
        let now = Clock.monotonicNanos()
        if now - lastLogErrorReport > 1_000_000_000 {
            lastLogErrorReport = now
            Log.warning("Error writing to the AOF file: \(aof.lastWriteError?.description ?? "short write"); replies are held until it can be written")
        }
        return false
    }

    /// How many bytes of the client's output may be sent now: all of it,
    /// unless a reply in it waits for a batch that is not durable yet.
    func sendableBytes(_ client: Client, _ out: ByteBuffer) -> Int {
        guard !client.heldReplies.isEmpty, let aof else { return out.readableCount }
        var durable = aof.durableBatch
        while true {
            while let first = client.heldReplies.first, first.batch <= durable { client.heldReplies.removeFirst() }
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
        guard let aof, !clientsWaitingForDurability.isEmpty else { return }
        let durable = aof.durableBatch
        var stillWaiting: [Client] = []
        for client in clientsWaitingForDurability where !client.closeNow {
            if let first = client.heldReplies.first, first.batch > durable {
                stillWaiting.append(client)
                continue
            }
            if !client.queuedForWrite {
                client.queuedForWrite = true
                writeQueue.append(client)
            }
        }
        clientsWaitingForDurability = stillWaiting
        if stillWaiting.isEmpty { aof.state.engineWaiting.store(false, ordering: .sequentiallyConsistent) }
    }
}

/// A reply that may not be sent before `batch` is durable, and everything
/// the connection was sent after it.
struct HeldReply {
    /// Offset of the reply in everything ever queued to this client.
    let streamPosition: Int64
    let batch: Int64
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
