import Glibc

/// One line per event on stderr (or a log file), Redis-style level letters.
/// Levels: debug < verbose < notice < warning.
public enum LogLevel: Int, Comparable, Sendable, CaseIterable {
    case debug, verbose, notice, warning

    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }

    public var name: String {
        switch self {
        case .debug: "debug"
        case .verbose: "verbose"
        case .notice: "notice"
        case .warning: "warning"
        }
    }

    var marker: String {
        switch self {
        case .debug: "."
        case .verbose: "-"
        case .notice: "*"
        case .warning: "#"
        }
    }
}

/// The process log. Written from the engine thread and at start-up; other
/// threads pass messages to the engine instead of logging directly.
public enum Log {
    nonisolated(unsafe) public static var level: LogLevel = .notice
    nonisolated(unsafe) static var fd: Int32 = 2
    /// journald adds its own timestamps; we leave them out when it reads our stderr.
    nonisolated(unsafe) static var withTimestamps = getenv("JOURNAL_STREAM") == nil

    /// Sends log lines to `path` (appending); empty means stderr.
    public static func setFile(_ path: String) throws {
        if path.isEmpty { fd = 2; return }
        let newFD = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        if newFD < 0 { throw SystemError("open \(path)") }
        fd = newFD
        withTimestamps = true
    }

    public static func debug(_ message: @autoclosure () -> String) { write(.debug, message) }
    public static func verbose(_ message: @autoclosure () -> String) { write(.verbose, message) }
    public static func notice(_ message: @autoclosure () -> String) { write(.notice, message) }
    public static func warning(_ message: @autoclosure () -> String) { write(.warning, message) }

    static func write(_ at: LogLevel, _ message: () -> String) {
        guard at >= level else { return }
        var line = ""
        if withTimestamps {
            line = "\(getpid()):M \(timestamp()) \(at.marker) "
        } else {
            line = "\(at.marker) "
        }
        line += message()
        line += "\n"
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { raw in
            _ = try? FileDescriptor.writeAll(fd, UnsafeRawBufferPointer(raw))
        }
    }

    static func timestamp() -> String {
        let micros = Clock.wallMicros()
        var seconds = time_t(micros / 1_000_000)
        var parts = tm()
        localtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        let n = strftime(&buffer, buffer.count, "%d %b %Y %H:%M:%S", &parts)
        let text = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let millis = (micros / 1000) % 1000
        let padded = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return "\(text).\(padded)"
    }
}
