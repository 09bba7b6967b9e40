import CJobdSystem
import Glibc

/// A failed system call: which call, and errno.
///
/// The syscall policy (as in swift-nio): `EINTR` is retried, `EAGAIN` is a
/// value the caller handles (`wouldBlock`), everything else is thrown or
/// returned as an error; `EBADF` means a bug in jobd and stops the process.
public struct SystemError: Error, CustomStringConvertible, Equatable, Sendable {
    public let call: String
    public let errno: Int32

    public init(_ call: String, errno: Int32 = cjobd_errno()) {
        self.call = call
        self.errno = errno
    }

    public var description: String {
        "\(call): \(String(cString: strerror(errno)))"
    }
}

/// Runs `body` until it does not fail with EINTR. Returns its result, or -1
/// with errno set.
@inline(__always)
func retryingInterrupts(_ body: () -> Int) -> Int {
    while true {
        let result = body()
        if result == -1 && cjobd_errno() == EINTR { continue }
        if result == -1 && cjobd_errno() == EBADF {
            preconditionFailure("EBADF: a file descriptor was used after close")
        }
        return result
    }
}

/// Throws SystemError when `result` is -1.
@inline(__always)
@discardableResult
func check(_ call: String, _ result: Int) throws -> Int {
    if result == -1 { throw SystemError(call) }
    return result
}
