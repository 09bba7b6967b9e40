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

    /// The syslog priority journald reads from a `<N>` line prefix (sd-daemon(3)).
    var journalPriority: Int {
        switch self {
        case .debug: 7
        case .verbose: 6
        case .notice: 5
        case .warning: 4
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
    /// Lines go to journald: no timestamps (it adds its own) and a `<N>`
    /// priority prefix on each line (it strips the prefix and keeps the level).
    nonisolated(unsafe) static var toJournal = stderrIsJournal()

    /// Sends log lines to `path` (appending); empty means stderr.
    public static func setFile(_ path: String) throws {
        if path.isEmpty {
            fd = 2
            toJournal = stderrIsJournal()
            return
        }
        let newFD = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        if newFD < 0 { throw SystemError("open \(path)") }
        fd = newFD
        toJournal = false
    }

    /// True when `journalStream` (`$JOURNAL_STREAM`, "device:inode") names
    /// the file stderr is open on. systemd sets it for a service whose
    /// stderr is the journal; checking the inode (as systemd.exec(5) advises)
    /// tells that apart from a stderr redirected elsewhere by a child of such
    /// a service, which inherits the variable.
    static func stderrIsJournal() -> Bool {
        stderrIsJournal(getenv("JOURNAL_STREAM").map { String(cString: $0) })
    }

    public static func stderrIsJournal(_ journalStream: String?, fd: Int32 = 2) -> Bool {
        guard let journalStream else { return false }
        let parts = journalStream.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return false }
        return UInt64(info.st_dev) == device && UInt64(info.st_ino) == inode
    }

    public static func debug(_ message: @autoclosure () -> String) { write(.debug, message) }
    public static func verbose(_ message: @autoclosure () -> String) { write(.verbose, message) }
    public static func notice(_ message: @autoclosure () -> String) { write(.notice, message) }
    public static func warning(_ message: @autoclosure () -> String) { write(.warning, message) }

    static func write(_ at: LogLevel, _ message: () -> String) {
        guard at >= level else { return }
        var line = ""
        if toJournal {
            // journald makes an entry of each line: every line gets the prefix.
            let prefix = "<\(at.journalPriority)>"
            line = prefix + at.marker + " " + message().split(separator: "\n", omittingEmptySubsequences: false)
                .joined(separator: "\n" + prefix)
        } else {
            line = "\(getpid()):M \(timestamp()) \(at.marker) " + message()
        }
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
