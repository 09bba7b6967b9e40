import JobdStore
import JobdSystem

/// The engine's state as log records, for a log rewrite: queue settings,
/// every job record (`JOBD PUT`), cron entries. Lists holding jobs are
/// written by the rewriter itself (`JOBD LISTPUSH`, with levels and tags).
///
///     JOBD PUT handle id queue state priority attempts created scheduled
///              started finished forgetAt =payload|"" =result|"" nErrors errors... [options]
///     JOBD LISTPUSH key level tag payload [level tag payload ...]
extension JobEngine {
    public func snapshotRecords() -> [(database: Int, words: [[UInt8]])] {
        var out: [(Int, [[UInt8]])] = []
        for (key, state) in queues.sorted(by: { $0.key.name.lexicographicallyPrecedes($1.key.name) }) {
            for words in settingRecords(state) { out.append((key.database, [Array("JOBD".utf8)] + words)) }
        }
        // Dead letters in their queue's order, everything else by handle.
        var ordered = records.values.filter { $0.state != .dead }.sorted { $0.handle < $1.handle }
        for state in queues.values { ordered += state.dead.compactMap { records[$0] } }
        for record in ordered { out.append((record.database, put(record))) }
        for entry in cron.sortedEntries {
            out.append((entry.database, [Array("JOBD".utf8)] + JobLogRecords.cron(entry)))
        }
        return out
    }

    func put(_ r: JobRecord) -> [[UInt8]] {
        func n(_ v: Int64) -> [UInt8] { Array(String(v).utf8) }
        var request = AddRequest(queue: r.queue, payload: [])
        request.options = r.options
        var words: [[UInt8]] = [Array("JOBD".utf8), Array("PUT".utf8), Array(String(r.handle).utf8), r.id, r.queue,
                                Array(r.state.rawValue.utf8), n(Int64(r.priority)), n(Int64(r.attempts)), n(r.createdAt),
                                n(r.scheduledAt), n(r.startedAt), n(r.finishedAt), n(r.forgetAt),
                                r.payload.map { [UInt8(ascii: "=")] + $0 } ?? [], r.result.map { [UInt8(ascii: "=")] + $0 } ?? [],
                                n(Int64(r.errors.count))]
        words += r.errors
        words += JobRequestParser.words(request, includeID: false)
        return words
    }

    /// Replays `JOBD PUT` (words from the handle on).
    func replayPut(_ w: [[UInt8]], database: Int, now: Int64) throws(JobError) {
        func int(_ i: Int) throws(JobError) -> Int64 {
            guard i < w.count, let v = Numbers.parseInt64(w[i]) else { throw JobError("ERR JOBD PUT: bad number at \(i)") }
            return v
        }
        guard w.count >= 14, let state = JobState(rawValue: String(decoding: w[3], as: UTF8.self)) else {
            throw JobError("ERR JOBD PUT record too short")
        }
        let errorCount = Int(try int(13))
        guard errorCount >= 0, w.count >= 14 + errorCount else { throw JobError("ERR JOBD PUT record too short") }
        let request = try JobRequestParser.parse(queue: w[2], payload: [], words: w[(14 + errorCount)...], now: now)
        let handle = UInt64(try int(0))
        let record = JobRecord(handle: handle, customID: JobRecord.customID(w[1], handle: handle), database: database, queue: w[2], state: state,
                               priority: Int(try int(4)), options: request.options, createdAt: try int(6), scheduledAt: try int(7))
        record.attempts = Int(try int(5))
        record.startedAt = try int(8)
        record.finishedAt = try int(9)
        record.forgetAt = try int(10)
        if !w[11].isEmpty { record.payload = Array(w[11].dropFirst()) }
        if !w[12].isEmpty { record.result = Array(w[12].dropFirst()) }
        record.errors = Array(w[14..<(14 + errorCount)])
        register(record)
        let queue = queueState(record)
        switch state {
        case .delayed:
            queue.delayed += 1
            timeline.schedule(.due, record.handle, at: record.scheduledAt)
        case .active: queue.active += 1
        case .dead: queue.dead.append(record.handle)
        case .completed, .expired, .canceled:
            timeline.schedule(.forget, record.handle, at: record.forgetAt)
            noteKept(record)
        case .pending: break
        }
        if record.expiresAt > 0 && !state.isFinished { timeline.schedule(.ttl, record.handle, at: record.expiresAt) }
    }

    /// Replays `JOBD LISTPUSH key (level tag payload)...`: appends at the list's tail.
    func replayListPush(_ w: [[UInt8]], database: Int) throws(JobError) {
        guard w.count >= 4, (w.count - 1) % 3 == 0 else { throw JobError("ERR JOBD LISTPUSH record malformed") }
        let db = keyspace[database]
        let list: ListValue
        if let entry = db.lookup(w[0]) {
            guard case let .list(existing) = entry.value else { throw JobError("ERR JOBD LISTPUSH into a non-list") }
            list = existing
        } else {
            list = ListValue()
            db.add(w[0], .list(list))
        }
        var i = 1
        while i < w.count {
            guard let level = Numbers.parseInt64(w[i]), PriorityLevels.range.contains(Int(level)),
                  let tag = UInt64(String(decoding: w[i + 1], as: UTF8.self)) else { throw JobError("ERR JOBD LISTPUSH: bad level or tag") }
            w[i + 2].withUnsafeBytes { list.appendRestored($0, level: Int(level), tag: tag) }
            i += 3
        }
    }
}
