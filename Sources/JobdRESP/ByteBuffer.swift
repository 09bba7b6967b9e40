import Glibc

/// A growable byte buffer with a read and a write index, backed by one
/// malloc'd block. Connections read into it and replies are encoded into it;
/// `consume` and `compact` avoid copying on the hot path.
public final class ByteBuffer {
    public private(set) var storage: UnsafeMutableRawPointer
    public private(set) var capacity: Int
    public private(set) var readIndex = 0
    public private(set) var writeIndex = 0

    public init(capacity: Int = 16 * 1024) {
        self.capacity = max(capacity, 64)
        storage = malloc(self.capacity)!
    }

    deinit { free(storage) }

    @inline(__always) public var readableCount: Int { writeIndex - readIndex }
    @inline(__always) public var isEmpty: Bool { writeIndex == readIndex }
    @inline(__always) public var writableCount: Int { capacity - writeIndex }
    @inline(__always) public var readPointer: UnsafeMutableRawPointer { storage + readIndex }
    @inline(__always) public var writePointer: UnsafeMutableRawPointer { storage + writeIndex }

    public var readableBytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: storage + readIndex, count: readableCount)
    }

    /// Makes room for at least `count` more bytes after the write index,
    /// compacting first and growing geometrically when needed.
    @inline(__always)
    public func reserve(_ count: Int) {
        if writableCount >= count { return }
        grow(count)
    }

    @inline(never)
    private func grow(_ count: Int) {
        compact()
        if writableCount >= count { return }
        var newCapacity = capacity
        while newCapacity - writeIndex < count { newCapacity *= 2 }
        storage = realloc(storage, newCapacity)!
        capacity = newCapacity
    }

    /// Moves the readable bytes to the start of the storage.
    public func compact() {
        if readIndex == 0 { return }
        let n = readableCount
        if n > 0 { memmove(storage, storage + readIndex, n) }
        readIndex = 0
        writeIndex = n
    }

    /// Records that `count` bytes were written at `writePointer`.
    @inline(__always) public func commitWrite(_ count: Int) { writeIndex += count }

    /// Drops `count` readable bytes.
    @inline(__always)
    public func consume(_ count: Int) {
        readIndex += count
        if readIndex == writeIndex { readIndex = 0; writeIndex = 0 }
    }

    public func clear() { readIndex = 0; writeIndex = 0 }

    /// Returns memory after a burst: shrinks to `capacity` when empty and larger.
    public func shrinkIfIdle(to target: Int) {
        guard isEmpty, capacity > target else { return }
        free(storage)
        capacity = target
        storage = malloc(target)!
        readIndex = 0
        writeIndex = 0
    }

    /// Drops bytes written after `mark` (a writeIndex recorded earlier).
    public func truncate(toWriteIndex mark: Int) {
        precondition(mark >= readIndex && mark <= writeIndex)
        writeIndex = mark
    }

    // MARK: Appending

    @inline(__always)
    public func append(_ byte: UInt8) {
        reserve(1)
        storage.storeBytes(of: byte, toByteOffset: writeIndex, as: UInt8.self)
        writeIndex += 1
    }

    @inline(__always)
    public func append(_ bytes: UnsafeRawBufferPointer) {
        let n = bytes.count
        if n == 0 { return }
        reserve(n)
        (storage + writeIndex).copyMemory(from: bytes.baseAddress!, byteCount: n)
        writeIndex += n
    }

    @inline(__always)
    public func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    public func append(_ text: StaticString) {
        append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    public func append(string text: String) {
        var text = text
        text.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    /// Appends the decimal digits of `value`.
    @inline(__always)
    public func appendDecimal(_ value: Int64) {
        reserve(20)
        writeIndex += Self.writeDecimal(value, to: storage + writeIndex)
    }

    /// Writes the decimal form of `value` at `out` (room for 20 bytes); returns the length.
    @inline(__always)
    public static func writeDecimal(_ value: Int64, to out: UnsafeMutableRawPointer) -> Int {
        var magnitude = value.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch
        return withUnsafeMutableBytes(of: &digits) { scratch in
            var i = 24
            repeat {
                i -= 1
                scratch[i] = UInt8(truncatingIfNeeded: magnitude % 10) &+ 48
                magnitude /= 10
            } while magnitude != 0
            if value < 0 { i -= 1; scratch[i] = UInt8(ascii: "-") }
            let n = 24 - i
            out.copyMemory(from: scratch.baseAddress! + i, byteCount: n)
            return n
        }
    }

    /// A copy of the readable bytes (tests and diagnostics).
    public var readableArray: [UInt8] { Array(readableBytes) }
}
