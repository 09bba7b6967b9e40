import JobdRESP
import JobdStore
import JobdSystem

/// One connected client: its socket, protocol state and buffers.
///
/// Idle clients hold no buffers: input is read into the engine's shared
/// read buffer and only a partial command is copied into a private one;
/// output buffers come from a pool when there is something to send and go
/// back once it has been written.
final class Client {
    let id: Int64
    let fd: Int32
    let peer: Socket.Peer
    let local: Socket.Peer
    let createdAt: Int64
    var lastInteraction: Int64

    /// Unparsed input kept between reads (a partial command, or commands
    /// waiting while the client is blocked); nil most of the time.
    var pendingInput: ByteBuffer?
    /// Replies not yet written; nil when there is nothing to send.
    var output: ByteBuffer?
    let parser: RequestParser

    var protocolVersion = ProtocolVersion.resp2
    var databaseIndex = 0
    var authenticated: Bool
    var name = ""
    var libraryName = ""
    var libraryVersion = ""
    var lastCommand = "NULL"

    /// Set when the reply to the current command is the last: close after writing.
    var closeAfterReply = false
    /// Set when the client must go without writing anything more.
    var closeNow = false
    /// Already queued for a write this loop turn.
    var queuedForWrite = false
    /// Registered for EPOLLOUT because a write was partial.
    var waitingForWritable = false
    /// When the output first went over the soft limit (0 = not over).
    var softLimitSince: Int64 = 0
    /// Waiting in a blocking command.
    var blocked: BlockedCommand?
    /// Queued for processing its buffered input after being unblocked.
    var queuedForUnblock = false
    /// Bytes written to the socket so far (positions in the reply stream).
    var bytesSent: Int64 = 0
    /// Replies waiting for the log to become durable (appendfsync always), oldest first.
    var heldReplies = RingDeque<HeldReply>()
    /// Between MULTI and EXEC: the queued commands.
    var transaction: TransactionState?
    /// Keys this client WATCHes, and whether one of them changed since.
    var watching: [WatchRecord] = []
    var watchedKeyChanged = false
    /// Pub/sub subscriptions, in the order they were made.
    var channels: [[UInt8]] = []
    var patterns: [[UInt8]] = []

    var subscriptionCount: Int { channels.count + patterns.count }
    @inline(__always) var isSubscribed: Bool { !channels.isEmpty || !patterns.isEmpty }

    init(id: Int64, fd: Int32, peer: Socket.Peer, local: Socket.Peer, now: Int64, authenticated: Bool, limits: RequestLimits) {
        self.id = id
        self.fd = fd
        self.peer = peer
        self.local = local
        createdAt = now
        lastInteraction = now
        self.authenticated = authenticated
        parser = RequestParser(limits: limits)
    }

    var isBlocked: Bool { blocked != nil }

    /// The CLIENT LIST / CLIENT INFO line for this client.
    func infoLine(now: Int64, database: Int) -> String {
        var flags = ""
        if transaction != nil { flags += "x" }
        if isSubscribed { flags += "P" }
        if isBlocked { flags += "b" }
        if closeAfterReply { flags += "c" }
        if flags.isEmpty { flags = "N" }
        let age = (now - createdAt) / 1000
        let idle = (now - lastInteraction) / 1000
        let queryBuffer = pendingInput?.readableCount ?? 0
        let outputBytes = output?.readableCount ?? 0
        let fields: [String] = [
            "id=\(id)", "addr=\(peer.text)", "laddr=\(local.text)", "fd=\(fd)", "name=\(name)",
            "age=\(age)", "idle=\(idle)", "flags=\(flags)", "db=\(database)", "sub=\(channels.count)", "psub=\(patterns.count)", "ssub=0",
            "multi=\(transaction.map { String($0.queued.count) } ?? "-1")", "qbuf=\(queryBuffer)", "qbuf-free=\((pendingInput?.capacity ?? 0) - queryBuffer)",
            "argv-mem=0", "multi-mem=0", "rbs=\(pendingInput?.capacity ?? 0)", "rbp=0",
            "obl=0", "oll=0", "omem=\(outputBytes)", "tot-mem=\(outputBytes + queryBuffer)",
            "events=r", "cmd=\(lastCommand)", "user=default", "redir=-1",
            "resp=\(protocolVersion.rawValue)", "lib-name=\(libraryName)", "lib-ver=\(libraryVersion)",
        ]
        return fields.joined(separator: " ")
    }
}
