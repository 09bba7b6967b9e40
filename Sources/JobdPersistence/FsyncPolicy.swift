/// appendfsync: when the log is flushed to the disk.
public enum FsyncPolicy: String, Sendable, CaseIterable {
    /// A reply to a write is sent only once the write is on disk (group commit).
    case always
    /// fdatasync about once a second: an OS crash can lose about a second.
    case everysec
    /// Never fsync; the OS writes back when it likes.
    case no
}
