import Glibc
import JobdRESP
import JobdSystem

/// The append-only log as the engine sees it: records are added to the
/// current batch during a loop turn; `writeBatch` writes the batch with one
/// write(2) before that turn's replies go out; the sync thread makes it
/// durable. Files live in `<dir>/appendonlydir`, named by the manifest.
public final class AppendOnlyLog {
    public let directory: String
    public let baseName: String
    public internal(set) var manifest: Manifest
    public let batch = BatchBuilder()
    public let state = DurabilityState()
    private let syncer: SyncThread
    private(set) var fd: Int32
    private var lastBatch: Int64 = 0
    /// Bytes of a batch that write(2) did not take yet (disk full, EIO...).
    private var unwritten: [UInt8] = []
    public private(set) var lastWriteError: SystemError?
    /// Total size of the files in the manifest, and that size after the last rewrite or start.
    public private(set) var currentSize: Int64 = 0
    public private(set) var baseSize: Int64 = 0
    public private(set) var writtenBatchCount: Int64 = 0

    public var manifestPath: String { directory + "/" + baseName + ".manifest" }

    /// Points the log (and the sync thread) at a new current file; returns the old descriptor.
    func replaceDescriptor(with newFD: Int32) -> Int32 {
        let old = fd
        fd = newFD
        state.currentFD.store(newFD, ordering: .releasing)
        return old
    }

    func syncerWake() { syncer.wake.signal() }

    /// After a rewrite: the log is now the base plus the kept incremental files.
    func recomputeSizes(baseName: String, kept: [String]) {
        currentSize = AppendOnlyLog.fileSize(directory + "/" + baseName) + kept.reduce(0) { $0 + AppendOnlyLog.fileSize($1) }
        baseSize = currentSize
    }

    /// Opens the log in `dir/directoryName`, creating the directory, a first
    /// incremental file and the manifest when there is none yet.
    public init(dir: String, directoryName: String = "appendonlydir", fileName: String, policy: FsyncPolicy,
                engineWake: EventFD) throws {
        directory = dir + "/" + directoryName
        baseName = fileName
        if mkdir(directory, 0o755) != 0 && errno != EEXIST { throw SystemError("mkdir \(directory)") }
        let manifestPath = directory + "/" + fileName + ".manifest"
        if let text = FileDescriptor.readTextFile(manifestPath) {
            manifest = try Manifest.parse(text)
        } else {
            manifest = Manifest(entries: [Manifest.Entry(name: "\(fileName).1.incr.aof", sequence: 1, kind: .incremental)])
            try manifest.write(to: manifestPath)
            _ = cjobd_fsync_directory(directory)
        }
        guard let last = manifest.entries.last, last.kind == .incremental else {
            throw Manifest.ParseError(description: "the manifest must end with an incremental file")
        }
        let path = directory + "/" + last.name
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SystemError("open \(path)") }
        state.policy = policy
        state.currentFD.store(fd, ordering: .releasing)
        syncer = try SyncThread(state: state, engineWake: engineWake)
        let directory = directory
        currentSize = manifest.entries.reduce(0) { $0 + AppendOnlyLog.fileSize(directory + "/" + $1.name) }
        baseSize = currentSize
        state.writtenBytes.store(currentSize, ordering: .relaxed)
        state.durableBytes.store(currentSize, ordering: .relaxed)
    }

    /// Starts the sync thread (after loading, so loading is not disturbed).
    public func start() throws { try syncer.start() }

    /// The files to load, in order, as full paths.
    public var filePaths: [String] { manifest.entries.map { directory + "/" + $0.name } }

    public var policy: FsyncPolicy {
        get { state.policy }
        set { state.policy = newValue; syncer.wake.signal() }
    }

    /// The number the batch being built will have once written.
    @inline(__always)
    public var pendingBatch: Int64 { lastBatch + 1 }

    @inline(__always)
    public var durableBatch: Int64 { state.durableBatch.load(ordering: .acquiring) }

    @inline(__always)
    public var writtenBatch: Int64 { lastBatch }

    /// True while an earlier batch could not be written: the engine holds
    /// replies and refuses writes until it is.
    public var isFailing: Bool { !unwritten.isEmpty }

    /// Writes the current batch (and any bytes left from a failed attempt).
    /// Returns false when something could not be written; call again next turn.
    @discardableResult
    public func writeBatch() -> Bool {
        if !unwritten.isEmpty {
            guard writeAll(unwritten) else { return false }
            unwritten.removeAll()
            finishBatch()
        }
        guard !batch.isEmpty else { return true }
        let bytes = batch.seal()
        let result = FileDescriptor.write(fd, from: bytes.baseAddress!, count: bytes.count)
        if case let .transferred(n) = result, n == bytes.count {
            currentSize += Int64(n)
            batch.reset()
            finishBatch()
            return true
        }
        // Keep what was not written, in order, and retry later.
        var done = 0
        if case let .transferred(n) = result { done = n; currentSize += Int64(n) }
        if case let .failed(error) = result { lastWriteError = error }
        unwritten = Array(UnsafeRawBufferPointer(rebasing: bytes[done...]))
        batch.reset()
        return false
    }

    private func writeAll(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let result = bytes.withUnsafeBytes { FileDescriptor.write(fd, from: $0.baseAddress! + offset, count: bytes.count - offset) }
            switch result {
            case let .transferred(n): offset += n; currentSize += Int64(n)
            case let .failed(error): lastWriteError = error; unwritten = Array(bytes[offset...]); return false
            default: unwritten = Array(bytes[offset...]); return false
            }
        }
        return true
    }

    private func finishBatch() {
        lastBatch += 1
        writtenBatchCount += 1
        lastWriteError = nil
        state.writtenBytes.store(currentSize, ordering: .releasing)
        state.writtenBatch.store(lastBatch, ordering: .releasing)
        syncer.batchWritten()
    }

    /// Flushes and stops the sync thread; the log cannot be written afterwards.
    public func close() {
        if !batch.isEmpty || !unwritten.isEmpty { writeBatch() }
        syncer.stop()
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
    }

    // MARK: Files

    public static func fileSize(_ path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : 0
    }

    /// Cuts a torn tail off the last file so new batches follow valid data.
    public func truncateLastFile(to length: Int) throws {
        guard ftruncate(fd, off_t(length)) == 0 else { throw SystemError("ftruncate") }
        let directory = directory
        currentSize = manifest.entries.dropLast().reduce(0) { $0 + AppendOnlyLog.fileSize(directory + "/" + $1.name) }
            + Int64(length)
        baseSize = currentSize
        state.writtenBytes.store(currentSize, ordering: .relaxed)
        state.durableBytes.store(currentSize, ordering: .relaxed)
    }
}

import CJobdSystem
