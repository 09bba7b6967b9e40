/// How one external process ended, and what it wrote.
public struct ProcessOutcome: Sendable {
    public enum Ending: Sendable, Equatable {
        case exited(Int32), signaled(Int32), timedOut, canceled, spawnFailed(String)
    }

    public var ending: Ending
    /// At most stdoutCap bytes (the rest is read and discarded, and `stdoutTruncated` set).
    public var stdout: [UInt8]
    public var stdoutTruncated: Bool
    /// The last stderrTailCap bytes the process wrote to stderr.
    public var stderrTail: [UInt8]
    public var succeeded: Bool { ending == .exited(0) }
    /// Text for JOB.FAIL's error when not succeeded (empty when it succeeded): "exit status 3",
    /// "killed by signal 9", "timed out after 500 ms", "canceled", each followed by ": " and the
    /// stderr tail (trailing newlines trimmed) when there is one; or "exec failed: <path>: <reason>".
    public var errorText: [UInt8]

    /// For callers that build outcomes themselves (fakes in tests).
    public init(ending: Ending, stdout: [UInt8] = [], stdoutTruncated: Bool = false, stderrTail: [UInt8] = [],
                errorText: [UInt8] = []) {
        self.ending = ending
        self.stdout = stdout
        self.stdoutTruncated = stdoutTruncated
        self.stderrTail = stderrTail
        self.errorText = errorText
    }

    /// The errorText that goes with an ending and a stderr tail.
    static func errorText(for ending: Ending, timeoutMillis: Int64, stderrTail tail: [UInt8]) -> [UInt8] {
        let head: String
        switch ending {
        case .exited(0): return []
        case .exited(let status): head = "exit status \(status)"
        case .signaled(let signal): head = "killed by signal \(signal)"
        case .timedOut: head = "timed out after \(timeoutMillis) ms"
        case .canceled: head = "canceled"
        case .spawnFailed(let reason): return Array("exec failed: \(reason)".utf8)
        }
        var text = Array(head.utf8)
        var end = tail.count
        while end > 0, tail[end - 1] == UInt8(ascii: "\n") || tail[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        if end > 0 {
            text += ": ".utf8
            text += tail[..<end]
        }
        return text
    }
}
