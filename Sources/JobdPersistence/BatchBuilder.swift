import JobdRESP

/// Collects one loop turn's log records on the engine thread. The batch
/// header's 52 bytes are reserved in front, so sealing fills them in and
/// the whole batch goes out with a single write(2).
public final class BatchBuilder {
    let buffer = ByteBuffer(capacity: 64 * 1024)
    /// The database the log's reader will be in after the records written so
    /// far: SELECT is emitted only when a record is for another database.
    private var selectedDatabase = -1

    public init() { reset() }

    @inline(__always)
    public var isEmpty: Bool { buffer.readableCount == BatchFormat.headerSize }

    /// Bytes of records in the current batch.
    @inline(__always)
    public var payloadSize: Int { buffer.readableCount - BatchFormat.headerSize }

    @inline(__always)
    public var encoder: CommandEncoder { CommandEncoder(out: buffer) }

    /// Makes the next records apply to `database`.
    @inline(__always)
    public func select(_ database: Int) {
        guard database != selectedDatabase else { return }
        let e = encoder
        e.begin(2)
        e.argument("SELECT")
        e.argument(Int64(database))
        selectedDatabase = database
    }

    /// A new file starts with no database selected.
    public func forgetSelection() { selectedDatabase = -1 }

    /// Fills in the header; returns the bytes to write (valid until `reset`).
    public func seal() -> UnsafeRawBufferPointer {
        let all = buffer.readableBytes
        let payload = UnsafeRawBufferPointer(rebasing: all[BatchFormat.headerSize...])
        BatchFormat.writeHeader(at: buffer.readPointer, payload: payload)
        return all
    }

    public func reset() {
        buffer.clear()
        if buffer.capacity > 4 * 1024 * 1024 { buffer.shrinkIfIdle(to: 64 * 1024) }
        buffer.reserve(BatchFormat.headerSize)
        buffer.commitWrite(BatchFormat.headerSize)
    }
}
