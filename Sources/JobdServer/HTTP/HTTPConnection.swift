import JobdSystem

/// One connection to the HTTP port (metrics, API, dashboard). Requests are
/// small and rare next to RESP traffic, so it keeps its own plain buffers.
final class HTTPConnection {
    let id: Int64
    let fd: Int32
    let peer: Socket.Peer
    /// Bytes received and not yet parsed.
    var input: [UInt8] = []
    /// Bytes to send; `written` of them have gone.
    var output: [UInt8] = []
    var written = 0
    /// Monotonic ms of the last byte received or sent.
    var lastActivity: Int64
    /// Monotonic ms when the first byte of the request being read arrived (0: between requests).
    var requestStartedAt: Int64 = 0
    /// Close once the output is written (Connection: close, or an error).
    var closeAfterWrite = false
    var waitingForWritable = false
    /// Responses held until the log batch `batch` is durable (appendfsync always).
    var heldUntilBatch: Int64 = 0

    init(id: Int64, fd: Int32, peer: Socket.Peer, now: Int64) {
        self.id = id
        self.fd = fd
        self.peer = peer
        lastActivity = now
    }

    var hasOutput: Bool { written < output.count }
}
