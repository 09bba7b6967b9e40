import JobdRESP

/// A free list of output buffers, so that clients borrow one while they
/// have replies in flight instead of each holding one forever.
final class BufferPool {
    private var free: [ByteBuffer] = []
    private let bufferSize: Int
    private let maxKept: Int

    init(bufferSize: Int = 16 * 1024, maxKept: Int = 256) {
        self.bufferSize = bufferSize
        self.maxKept = maxKept
    }

    @inline(__always)
    func take() -> ByteBuffer {
        if let buffer = free.popLast() { return buffer }
        return ByteBuffer(capacity: bufferSize)
    }

    /// Returns an emptied buffer; large or surplus ones are freed.
    @inline(__always)
    func give(_ buffer: ByteBuffer) {
        buffer.clear()
        if buffer.capacity <= 4 * bufferSize && free.count < maxKept {
            free.append(buffer)
        }
    }
}
