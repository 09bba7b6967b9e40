/// Outcome of a read or write on a non-blocking descriptor.
public enum IOResult: Equatable, Sendable {
    /// This many bytes were transferred (never zero for writes of non-empty data).
    case transferred(Int)
    /// The descriptor is not ready (EAGAIN).
    case wouldBlock
    /// The peer closed the connection (read returned 0).
    case endOfFile
    /// Any other failure, such as ECONNRESET.
    case failed(SystemError)
}
