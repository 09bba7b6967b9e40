import Glibc
@testable import JobdQueue
import JobdRESP
import JobdStore

// Helpers shared by the JobdQueue test suites.

/// A deterministic generator (SplitMix64), so that failures replay.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// `DroppedJobTags.tags` is one global for the whole test process, fed by
/// every ListValue (including the queues of engines being freed) and read
/// by `dropTakenJobs()`; ListValueJobsTests (another module, run in
/// parallel) checks it exactly. Every test here holds the same file lock
/// (flock on separate descriptors excludes threads of one process too)
/// for as long as its engine lives.
func exclusive<R>(_ body: () throws -> R) rethrows -> R {
    let fd = open("/tmp/jobd-tests-dropped-job-tags.lock", O_CREAT | O_RDWR, 0o644)
    if fd >= 0 { _ = flock(fd, LOCK_EX) }
    defer {
        DroppedJobTags.tags.removeAll()
        if fd >= 0 { _ = flock(fd, LOCK_UN); close(fd) }
    }
    DroppedJobTags.tags.removeAll()
    return try body()
}

/// The words of the record an `onRecord` call encodes, decoded from the
/// RESP bytes that would go to the log.
func decodeRecord(_ encode: (CommandEncoder) -> Void) -> [[UInt8]] {
    let buffer = ByteBuffer(capacity: 256)
    encode(CommandEncoder(out: buffer))
    let bytes = buffer.readableArray
    var i = 0
    func number() -> Int {
        i += 1  // the type byte
        var n = 0
        while bytes[i] != 13 { n = n * 10 + Int(bytes[i] - 48); i += 1 }
        i += 2
        return n
    }
    let count = number()
    return (0..<count).map { _ in
        let length = number()
        defer { i += length + 2 }
        return Array(bytes[i..<(i + length)])
    }
}
