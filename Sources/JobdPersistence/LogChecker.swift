import Glibc
import JobdRESP
import JobdSystem

/// `jobd check-aof`: verifies every batch (checksum and command framing) of
/// a log file or of all files named by a manifest, and can cut a file back
/// to its last good batch.
public struct LogChecker {
    public struct FileReport: Sendable {
        public let path: String
        public let size: Int
        public var batches = 0
        public var commands = 0
        /// Where the file stops being valid, or nil if all of it is.
        public var firstBadOffset: Int?
        /// A valid batch after the damage: the file is corrupt in the middle.
        public var nextValidOffset: Int?
        public var problem: String?

        public var isClean: Bool { firstBadOffset == nil }
    }

    /// The files to check: those named by a manifest, or the file itself.
    public static func files(for path: String) throws -> [String] {
        if path.hasSuffix(".manifest") {
            guard let text = FileDescriptor.readTextFile(path) else { throw SystemError("open \(path)") }
            let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
            let base = directory.isEmpty ? "" : directory + "/"
            return try Manifest.parse(text).entries.map { base + $0.name }
        }
        return [path]
    }

    /// Checks one file; `progress` gets the fraction done now and then.
    public static func check(_ path: String, progress: (Double) -> Void = { _ in }) throws -> FileReport {
        let file = try MappedFile(path: path)
        var report = FileReport(path: path, size: file.bytes.count)
        let parser = RequestParser()
        let buffer = ByteBuffer(capacity: 64 * 1024)
        var lastProgress = Clock.monotonicNanos()
        let ending = BatchScanner(file.bytes).forEachBatch { payload, offset in
            buffer.clear()
            buffer.append(payload)
            while true {
                switch parser.parse(buffer) {
                case .command:
                    report.commands += 1
                    parser.finishCommand(buffer)
                    continue
                case .empty:
                    parser.finishCommand(buffer)
                    continue
                case .incomplete where buffer.isEmpty:
                    break
                default:
                    report.firstBadOffset = offset
                    report.problem = "the batch at offset \(offset) has a valid checksum but does not hold whole commands"
                    parser.reset()
                    return false
                }
                break
            }
            report.batches += 1
            let now = Clock.monotonicNanos()
            if now - lastProgress > 1_000_000_000 {
                lastProgress = now
                progress(Double(offset) / Double(max(1, file.bytes.count)))
            }
            return true
        }
        switch ending {
        case .clean: break
        case let .tornTail(offset):
            report.firstBadOffset = offset
            report.problem = "the file ends with an incomplete or damaged batch at offset \(offset) (torn tail)"
        case let .corruptMiddle(offset, next):
            report.firstBadOffset = offset
            report.nextValidOffset = next
            report.problem = "the batch at offset \(offset) is damaged; valid batches follow from offset \(next)"
        }
        return report
    }

    /// Cuts `path` to `length` bytes and flushes it.
    public static func truncate(_ path: String, to length: Int) throws {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open \(path)") }
        defer { close(fd) }
        guard ftruncate(fd, off_t(length)) == 0 else { throw SystemError("ftruncate \(path)") }
        guard fsync(fd) == 0 else { throw SystemError("fsync \(path)") }
    }
}
