import CJobdSystem
import Glibc

/// Plain reads and writes on a file descriptor with the syscall policy applied.
public enum FileDescriptor {
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawPointer, count: Int) -> IOResult {
        let n = retryingInterrupts { Glibc.read(fd, buffer, count) }
        if n > 0 { return .transferred(n) }
        if n == 0 { return .endOfFile }
        let err = cjobd_errno()
        if err == EAGAIN || err == EWOULDBLOCK { return .wouldBlock }
        return .failed(SystemError("read", errno: err))
    }

    public static func write(_ fd: Int32, from buffer: UnsafeRawPointer, count: Int) -> IOResult {
        let n = retryingInterrupts { Glibc.write(fd, buffer, count) }
        if n >= 0 { return .transferred(n) }
        let err = cjobd_errno()
        if err == EAGAIN || err == EWOULDBLOCK { return .wouldBlock }
        return .failed(SystemError("write", errno: err))
    }

    /// Writes all of `bytes` to a blocking descriptor (logs, files).
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = retryingInterrupts { Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset) }
            try check("write", n)
            offset += n
        }
    }

    /// The whole contents of a file as text (config files); nil when it cannot be opened.
    public static func readTextFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { raw in retryingInterrupts { Glibc.read(fd, raw.baseAddress!, 65536) } }
            if n <= 0 { break }
            data.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: data, as: UTF8.self)
    }

    public static func close(_ fd: Int32) {
        // close() must not be retried on EINTR on Linux: the descriptor is gone either way.
        _ = Glibc.close(fd)
    }

    public static func setNonBlocking(_ fd: Int32) throws {
        let flags = fcntl(fd, F_GETFL)
        try check("fcntl", Int(flags))
        try check("fcntl", Int(fcntl(fd, F_SETFL, flags | O_NONBLOCK)))
    }
}
