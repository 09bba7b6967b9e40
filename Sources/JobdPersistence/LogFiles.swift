import Glibc
import JobdSystem

/// The file operations of a rewrite, on the engine thread. None of them
/// waits for the disk: flushes are handed to the sync thread, which does
/// them before it next reports durability, so a write acknowledged under
/// `always` never depends on a file the manifest does not yet name durably.
extension AppendOnlyLog {
    /// Closes off the current incremental file and sends every later batch
    /// to a new one, which the manifest names from now on. Returns its sequence.
    public func startNewIncrementalFile() throws -> Int {
        if !batch.isEmpty || isFailing { guard writeBatch() else { throw lastWriteError ?? SystemError("write", errno: EIO) } }
        let sequence = manifest.lastSequence + 1
        let name = "\(baseName).\(sequence).incr.aof"
        let path = directory + "/" + name
        let newFD = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard newFD >= 0 else { throw SystemError("open \(path)") }
        var next = manifest
        next.entries.append(Manifest.Entry(name: name, sequence: sequence, kind: .incremental))
        do {
            try installManifest(next)
        } catch {
            Glibc.close(newFD)
            unlink(path)
            throw error
        }
        let oldFD = replaceDescriptor(with: newFD)
        queue(.syncAndClose(oldFD, notice: 0))
        batch.forgetSelection()
        return sequence
    }

    /// Opens the file a rewrite writes the snapshot into.
    public func createTemporaryBase(sequence: Int) throws -> (fd: Int32, path: String) {
        let path = directory + "/temp-rewrite-\(getpid()).\(sequence).base.aof"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SystemError("open \(path)") }
        return (fd, path)
    }

    /// Hands a finished snapshot file to the sync thread to flush and close;
    /// `notice` appears in `state.completedNotice` when it is on disk.
    public func finishTemporaryBase(fd: Int32, notice: Int64) {
        queue(.syncAndClose(fd, notice: notice))
    }

    /// Makes the snapshot the base: the manifest becomes [base, the
    /// incremental files from `firstKeptSequence` on] and older files go.
    public func installBase(temporaryPath: String, sequence: Int, firstKeptSequence: Int) throws {
        let name = "\(baseName).\(sequence).base.aof"
        let path = directory + "/" + name
        guard rename(temporaryPath, path) == 0 else { throw SystemError("rename \(temporaryPath)") }
        let kept = manifest.entries.filter { $0.kind == .incremental && $0.sequence >= firstKeptSequence }
        let retired = manifest.entries.filter { !kept.contains($0) }
        try installManifest(Manifest(entries: [Manifest.Entry(name: name, sequence: sequence, kind: .base)] + kept))
        for entry in retired { unlink(directory + "/" + entry.name) }
        let directory = directory
        recomputeSizes(baseName: name, kept: kept.map { directory + "/" + $0.name })
    }

    /// Writes bytes to a snapshot file (blocking; small chunks, page cache).
    public func writeSnapshot(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws {
        try FileDescriptor.writeAll(fd, bytes)
    }

    /// Deletes files in the log directory that the manifest does not name and
    /// that look like ours (left by a crash during a rewrite).
    public func removeStrayFiles() {
        guard let dir = opendir(directory) else { return }
        defer { closedir(dir) }
        let named = Set(manifest.entries.map(\.name))
        var stray: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            let ours = name.hasPrefix("temp-rewrite-") || (name.hasPrefix(baseName + ".") && name.hasSuffix(".aof"))
            if ours && !named.contains(name) { stray.append(name) }
        }
        for name in stray {
            Log.notice("Removing \(name) from the log directory: the manifest does not name it")
            unlink(directory + "/" + name)
        }
    }

    private func installManifest(_ next: Manifest) throws {
        // No fsync here (the engine never waits for the disk): the rename is
        // visible to a restarted process at once; the sync thread flushes the
        // manifest and the directory before the next batch counts as durable.
        try next.write(to: manifestPath, flush: false)
        manifest = next
        queue(.syncFile(manifestPath))
        queue(.syncDirectory(directory))
    }

    func queue(_ action: SyncAction) {
        state.pendingActions.withLock { $0.append(action) }
        syncerWake()
    }
}
