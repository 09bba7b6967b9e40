import Glibc
import JobdSystem

/// The list of files that make up the log, in load order: at most one base
/// file (a snapshot written by a rewrite) and then incremental files. It is
/// replaced atomically (write a temp file, rename), so the log's content is
/// always exactly the files it names. Same idea and text format as Redis 7:
///
///     file appendonly.aof.2.base.aof seq 2 type b
///     file appendonly.aof.3.incr.aof seq 3 type i
public struct Manifest: Equatable, Sendable {
    public enum Kind: String, Sendable { case base = "b", incremental = "i" }

    public struct Entry: Equatable, Sendable {
        public var name: String
        public var sequence: Int
        public var kind: Kind
    }

    public var entries: [Entry]

    public init(entries: [Entry]) { self.entries = entries }

    public var text: String {
        entries.map { "file \($0.name) seq \($0.sequence) type \($0.kind.rawValue)\n" }.joined()
    }

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    public static func parse(_ text: String) throws -> Manifest {
        var entries: [Entry] = []
        for (number, line) in text.split(separator: "\n").enumerated() {
            let words = line.split(separator: " ").map(String.init)
            guard words.count == 6, words[0] == "file", words[2] == "seq", words[4] == "type",
                  let sequence = Int(words[3]), let kind = Kind(rawValue: words[5]),
                  !words[1].contains("/") else {
                throw ParseError(description: "invalid manifest line \(number + 1): '\(line)'")
            }
            entries.append(Entry(name: words[1], sequence: sequence, kind: kind))
        }
        guard !entries.isEmpty else { throw ParseError(description: "the manifest lists no files") }
        if entries.dropFirst().contains(where: { $0.kind == .base }) {
            throw ParseError(description: "only the first file of the manifest may be a base file")
        }
        return Manifest(entries: entries)
    }

    /// The highest sequence number used, so new files get a larger one.
    public var lastSequence: Int { entries.map(\.sequence).max() ?? 0 }

    /// Writes the manifest to `path` atomically (temp file + rename). Without
    /// `flush`, the caller makes file and directory durable through the sync thread.
    public func write(to path: String, flush: Bool = true) throws {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SystemError("open \(temporary)") }
        var bytes = Array(text.utf8)
        do {
            try bytes.withUnsafeMutableBytes { try FileDescriptor.writeAll(fd, UnsafeRawBufferPointer($0)) }
        } catch {
            close(fd)
            throw error
        }
        // At creation the manifest is flushed here, so the rename never exposes an empty file.
        if flush { fsync(fd) }
        close(fd)
        guard rename(temporary, path) == 0 else { throw SystemError("rename \(temporary)") }
    }
}
