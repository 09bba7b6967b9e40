import JobdStore

/// What job records hold in memory, and giving some of it back under
/// maxmemory. Only records of finished jobs that are merely waiting out
/// their result TTL (completed, expired, canceled) may be evicted: each
/// would be forgotten at its `forgetAt` anyway. Pending, delayed, active
/// and dead jobs are never evicted (that would lose work).
extension JobEngine {
    /// About how many heap bytes a record holds: the object, its arrays and its table slots.
    static func estimatedSize(_ record: JobRecord) -> Int {
        var size = 256 + record.queue.count
        if let id = record.customID { size += id.count + 64 }
        if let payload = record.payload { size += payload.count + 32 }
        if let result = record.result { size += result.count + 32 }
        for error in record.errors { size += error.count + 32 }
        if let unique = record.options.unique { size += unique.count + 64 }
        return size
    }

    /// Bytes held by job records (INFO memory's used_memory_jobs adds the lists). O(records).
    public func recordMemoryEstimate() -> Int {
        records.values.reduce(0) { $0 + JobEngine.estimatedSize($1) }
    }

    /// A finished record now waits out its result TTL: it becomes an
    /// eviction candidate, oldest finish first (about least recently used:
    /// results are read soon after the job finishes, if at all).
    func noteKept(_ record: JobRecord) {
        keptRecords.append(record.handle)
        // Entries whose record was forgotten meanwhile are dropped here, so
        // the deque holds about what is kept, not every job ever finished.
        while let first = keptRecords.first, !isEvictable(first) { keptRecords.removeFirst() }
    }

    private func isEvictable(_ handle: UInt64) -> Bool {
        guard let record = records[handle] else { return false }
        return record.state.isFinished && record.state != .dead
    }

    /// Forgets the finished record kept longest (as its TTL would, logged
    /// the same) and returns about how many bytes that freed; nil when no
    /// finished record is kept.
    public func evictKeptRecord() -> Int? {
        while !keptRecords.isEmpty {
            let handle = keptRecords.removeFirst()
            guard isEvictable(handle), let record = records[handle] else { continue }
            let size = JobEngine.estimatedSize(record)
            forget(record)
            log(record.database, JobLogRecords.forget(record))
            evictedRecords += 1
            return size
        }
        return nil
    }
}
