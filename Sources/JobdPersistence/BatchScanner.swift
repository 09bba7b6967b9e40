import CJobdSystem
import Glibc
import JobdSystem

/// Walks the batches of one log file and classifies where it stops.
///
/// A damaged batch followed by nothing valid is a **torn tail** (a crash
/// during a write): everything before it is good and the rest can be cut.
/// A damaged batch followed by a valid batch is a **corrupt middle**: data
/// after it exists but cannot be trusted in order, so loading must stop.
public struct BatchScanner {
    public enum Ending: Equatable, Sendable {
        /// Every byte belongs to a valid batch.
        case clean
        /// Bytes from `offset` on do not form a valid batch and nothing valid follows.
        case tornTail(offset: Int)
        /// The batch at `offset` is damaged, yet a valid batch starts at `nextValid`.
        case corruptMiddle(offset: Int, nextValid: Int)
    }

    public let bytes: UnsafeRawBufferPointer

    public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// Calls `body(payload, offsetOfBatch)` for each valid batch in order, then
    /// returns how the file ends. Stops early if `body` returns false.
    @discardableResult
    public func forEachBatch(_ body: (UnsafeRawBufferPointer, Int) -> Bool) -> Ending {
        var offset = 0
        while offset < bytes.count {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            guard let size = BatchFormat.validBatch(at: rest) else {
                if let next = nextValidBatch(after: offset) { return .corruptMiddle(offset: offset, nextValid: next) }
                return .tornTail(offset: offset)
            }
            let payload = UnsafeRawBufferPointer(rebasing: rest[BatchFormat.headerSize..<size])
            if !body(payload, offset) { return .clean }
            offset += size
        }
        return .clean
    }

    /// The offset of the first valid batch strictly after `offset`, if any.
    public func nextValidBatch(after offset: Int) -> Int? {
        let marker = BatchFormat.prefix
        var from = offset + 1
        while from + BatchFormat.headerSize <= bytes.count {
            guard let found = cjobd_memmem(bytes.baseAddress! + from, bytes.count - from, marker, marker.count) else { return nil }
            let at = UnsafeRawPointer(found) - bytes.baseAddress!
            if BatchFormat.validBatch(at: UnsafeRawBufferPointer(rebasing: bytes[at...])) != nil { return at }
            from = at + 1
        }
        return nil
    }
}

/// A read-only memory map of a file (the loader and check-aof read logs this way).
public final class MappedFile {
    public let bytes: UnsafeRawBufferPointer
    private let mapping: UnsafeMutableRawPointer?
    private let length: Int

    public init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open \(path)") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SystemError("stat \(path)") }
        length = Int(info.st_size)
        if length == 0 {
            mapping = nil
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let address = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let address, address != MAP_FAILED else { throw SystemError("mmap \(path)") }
        madvise(address, length, Int32(MADV_SEQUENTIAL))
        mapping = address
        bytes = UnsafeRawBufferPointer(start: address, count: length)
    }

    deinit { if let mapping { munmap(mapping, length) } }
}
