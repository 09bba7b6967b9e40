import Glibc
import JobdSystem

/// A started child and the parent's ends of its pipes.
struct SpawnedChild {
    let pid: pid_t
    let stdin: Int32, stdout: Int32, stderr: Int32
}

/// ProcessRunner's side of a child's three pipes and what came out of them; -1 = closed.
struct ProcessStreams {
    var stdin: Int32, stdoutFD: Int32, stderrFD: Int32
    var written = 0
    var stdout: [UInt8] = []
    var stdoutTruncated = false
    var tail: [UInt8] = []
    let stdoutCap: Int, stderrTailCap: Int

    init(child: SpawnedChild, stdoutCap: Int, stderrTailCap: Int) {
        (stdin, stdoutFD, stderrFD) = (child.stdin, child.stdout, child.stderr)
        (self.stdoutCap, self.stderrTailCap) = (stdoutCap, stderrTailCap)
    }

    var hasOpenOutput: Bool { stdoutFD >= 0 || stderrFD >= 0 }

    mutating func writeInput(_ input: UnsafeRawBufferPointer) {
        guard stdin >= 0, written < input.count else { return closeInput() }
        switch FileDescriptor.write(stdin, from: input.baseAddress! + written, count: input.count - written) {
        case .transferred(let n):
            written += n
            if written == input.count { closeInput() }  // EOF tells the child the input is complete
        case .wouldBlock:
            break
        case .endOfFile, .failed:
            // EPIPE: the child closed stdin or exited without reading it all. Not an
            // error of ours; its output and exit status tell what happened.
            closeInput()
        }
    }

    mutating func readStdout(into scratch: UnsafeMutableRawBufferPointer) {
        guard let chunk = Self.read(&stdoutFD, into: scratch) else { return }
        let room = stdoutCap - stdout.count
        if chunk.count > room {
            // Keep reading past the cap so the child never blocks on a full pipe.
            stdout.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[..<room]))
            stdoutTruncated = true
        } else {
            stdout.append(contentsOf: chunk)
        }
    }

    mutating func readStderr(into scratch: UnsafeMutableRawBufferPointer) {
        guard let chunk = Self.read(&stderrFD, into: scratch), stderrTailCap > 0 else { return }
        let keep = chunk.count > stderrTailCap ? UnsafeRawBufferPointer(rebasing: chunk[(chunk.count - stderrTailCap)...]) : chunk
        tail.append(contentsOf: keep)
        // Trimmed in batches, not per read, so a chatty stderr costs O(bytes).
        if tail.count >= 2 * stderrTailCap { tail.removeFirst(tail.count - stderrTailCap) }
    }

    mutating func finishedTail() -> [UInt8] {
        if tail.count > stderrTailCap { tail.removeFirst(tail.count - stderrTailCap) }
        return tail
    }

    /// One read; closes the descriptor at EOF or on error. nil when nothing was read.
    private static func read(_ fd: inout Int32, into scratch: UnsafeMutableRawBufferPointer) -> UnsafeRawBufferPointer? {
        switch FileDescriptor.read(fd, into: scratch.baseAddress!, count: scratch.count) {
        case .transferred(let n):
            return UnsafeRawBufferPointer(rebasing: scratch[..<n])
        case .wouldBlock:
            return nil
        case .endOfFile, .failed:
            FileDescriptor.close(fd)
            fd = -1
            return nil
        }
    }

    mutating func closeInput() {
        if stdin >= 0 { FileDescriptor.close(stdin) }
        stdin = -1
    }

    mutating func closeAll() {
        closeInput()
        if stdoutFD >= 0 { FileDescriptor.close(stdoutFD) }
        if stderrFD >= 0 { FileDescriptor.close(stderrFD) }
        (stdoutFD, stderrFD) = (-1, -1)
    }
}
