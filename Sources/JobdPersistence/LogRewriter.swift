import Glibc
import JobdRESP
import JobdStore
import JobdSystem

/// BGREWRITEAOF without fork: writes the keyspace as it was when the
/// rewrite began into a new base file, a few milliseconds per loop turn,
/// while every write from then on goes to a new incremental file.
///
/// "As it was when it began": keys created later carry the new generation
/// and are skipped; a key that a command is about to change or delete
/// before the scan reached it is written first (`preserve`), so the base
/// never holds a change that the new incremental file holds too. When the
/// base is on disk, the manifest switches to [new base, new incremental].
public final class LogRewriter {
    public enum Phase: Equatable {
        case snapshotting
        /// The snapshot is written; waiting for the sync thread to flush it.
        case flushing
        case finished
        case failed(String)
    }

    public let generation: UInt32
    public private(set) var phase = Phase.snapshotting
    public private(set) var keysWritten = 0
    public private(set) var bytesWritten = 0
    public let startedAtNanos = Clock.monotonicNanos()

    let keyspace: Keyspace
    let log: AppendOnlyLog
    private let incrementalSequence: Int
    private let fd: Int32
    private let temporaryPath: String
    private let builder = BatchBuilder()
    private var database = 0
    private var cursor: UInt64 = 0
    private let notice: Int64

    /// Switches the log to a new incremental file and opens the snapshot file.
    /// `prelude`: records written before any key (the job engine's snapshot,
    /// taken now, so it is as of the same moment as the keys).
    public init(keyspace: Keyspace, log: AppendOnlyLog, prelude: [(database: Int, words: [[UInt8]])] = []) throws {
        self.keyspace = keyspace
        self.log = log
        for (database, words) in prelude {
            builder.select(database)
            builder.encoder.begin(words.count)
            for word in words { builder.encoder.argument(word) }
        }
        incrementalSequence = try log.startNewIncrementalFile()
        (fd, temporaryPath) = try log.createTemporaryBase(sequence: incrementalSequence)
        keyspace.snapshotGeneration &+= 1
        generation = keyspace.snapshotGeneration
        notice = Int64(incrementalSequence)
    }

    // MARK: Snapshot

    /// Writes keys for about `budgetNanos`; moves to `.flushing` when all are written.
    public func step(budgetNanos: Int64) {
        guard phase == .snapshotting else { return }
        let deadline = Clock.monotonicNanos() + budgetNanos
        do {
            while database < keyspace.databases.count {
                let db = keyspace[database]
                cursor = db.scanStored(cursor: cursor, count: 64) { entry in write(entry, in: db) }
                try flushIfLarge()
                if cursor == 0 { database += 1 }
                if Clock.monotonicNanos() > deadline { return }
            }
            try flush()
            log.finishTemporaryBase(fd: fd, notice: notice)
            phase = .flushing
        } catch {
            fail("\(error)")
        }
    }

    /// Call before `entry` changes or goes away: its state at the start of the rewrite is written first.
    @inline(__always)
    public func preserve(_ entry: KeyEntry, in db: Database) {
        guard entry.snapshotGeneration != generation, phase == .snapshotting else { return }
        write(entry, in: db)
    }

    /// `preserve` for whatever is stored under `key`.
    public func preserve(key: UnsafeRawBufferPointer, in db: Database) {
        guard phase == .snapshotting, let entry = db.storedEntry(key) else { return }
        preserve(entry, in: db)
    }

    /// Before a whole database changes (FLUSHDB, FLUSHALL, SWAPDB).
    public func preserveAll(_ db: Database) {
        guard phase == .snapshotting else { return }
        db.forEachStored { preserve($0, in: db) }
        do { try flushIfLarge() } catch { fail("\(error)") }
    }

    private func write(_ entry: KeyEntry, in db: Database) {
        guard entry.snapshotGeneration != generation else { return }
        entry.snapshotGeneration = generation
        // A key past its expiry is not part of the data set; its DEL is in the new incremental file.
        if entry.hasExpiry && keyspace.now > entry.expiresAt { return }
        builder.select(db.index)
        let e = builder.encoder
        switch entry.value {
        case let .string(bytes):
            e.begin(entry.hasExpiry ? 5 : 3)
            e.argument("SET")
            e.argument(entry.key)
            e.argument(bytes)
            if entry.hasExpiry {
                e.argument("PXAT")
                e.argument(entry.expiresAt)
            }
            keysWritten += 1
            return
        case let .list(list) where list.taggedCount > 0 || list.levels != nil:
            // Jobs keep their tags (records) and priority levels.
            writeChunked("JOBD", key: entry.key, width: 3, encoder: e, verb: "LISTPUSH") { add in
                list.forEachJob { element, tag, level in
                    add(Array(String(level).utf8)); add(Array(String(tag).utf8)); add(Array(element))
                }
            }
        case let .list(list):
            writeChunked("RPUSH", key: entry.key, width: 1, encoder: e) { add in
                list.forEach { element in add(Array(element)); return true }
            }
        case let .hash(hash):
            writeChunked("HSET", key: entry.key, width: 2, encoder: e) { add in
                hash.fields.forEach { field, value in add(field); add(value) }
            }
        case let .set(set):
            writeChunked("SADD", key: entry.key, width: 1, encoder: e) { add in set.forEach(add) }
        case let .stream(stream):
            writeStream(stream, key: entry.key, encoder: e)
        case let .zset(zset):
            writeChunked("ZADD", key: entry.key, width: 2, encoder: e) { add in
                zset.forEach { score, member in add(Numbers.formatDouble(score)); add(member) }
            }
        }
        if entry.hasExpiry {
            e.begin(3)
            e.argument("PEXPIREAT")
            e.argument(entry.key)
            e.argument(entry.expiresAt)
        }
        keysWritten += 1
    }

    /// One XADD per entry (an empty stream is made by adding and trimming
    /// one), then XSETID so that IDs never go back after a reload.
    private func writeStream(_ stream: StreamValue, key: [UInt8], encoder e: CommandEncoder) {
        if stream.isEmpty {
            e.begin(7)
            e.argument("XADD"); e.argument(key); e.argument("MAXLEN"); e.argument("0")
            e.argument(Array(stream.lastID.text.utf8)); e.argument("x"); e.argument("y")
        }
        stream.range(from: .zero, to: .max) { entry in
            e.begin(3 + entry.fieldsAndValues.count)
            e.argument("XADD")
            e.argument(key)
            e.argument(Array(entry.id.text.utf8))
            for part in entry.fieldsAndValues { e.argument(part) }
        }
        e.begin(7)
        e.argument("XSETID"); e.argument(key); e.argument(Array(stream.lastID.text.utf8))
        e.argument("ENTRIESADDED"); e.argument(Array(String(stream.entriesAdded).utf8))
        e.argument("MAXDELETEDID"); e.argument(Array(stream.maxDeletedID.text.utf8))
    }

    /// `command key args...` in commands of at most 128 items (of `width`
    /// arguments each) or about 1 MB, so that no logged command is huge.
    private func writeChunked(_ command: StaticString, key: [UInt8], width: Int, encoder e: CommandEncoder,
                              verb: StaticString? = nil, _ items: (_ add: ([UInt8]) -> Void) -> Void) {
        var pending: [[UInt8]] = []
        var pendingBytes = 0
        func emit() {
            guard !pending.isEmpty else { return }
            e.begin(2 + pending.count + (verb == nil ? 0 : 1))
            e.argument(command)
            if let verb { e.argument(verb) }
            e.argument(key)
            for argument in pending { e.argument(argument) }
            pending.removeAll(keepingCapacity: true)
            pendingBytes = 0
        }
        items { argument in
            pending.append(argument)
            pendingBytes += argument.count
            if pending.count % width == 0 && (pending.count == 128 * width || pendingBytes > 1 << 20) { emit() }
        }
        emit()
    }

    private func flushIfLarge() throws {
        if builder.payloadSize >= 1 << 20 { try flush() }
    }

    private func flush() throws {
        guard !builder.isEmpty else { return }
        let bytes = builder.seal()
        try log.writeSnapshot(fd, bytes)
        bytesWritten += bytes.count
        builder.reset()
    }

    // MARK: Finishing

    /// Once the snapshot is on disk, makes it the base. Call every turn while flushing.
    public func poll() {
        guard phase == .flushing else { return }
        let completed = log.state.completedNotice.load(ordering: .acquiring)
        if completed == -notice { return fail("flushing the new base file failed") }
        guard completed == notice else { return }
        do {
            try log.installBase(temporaryPath: temporaryPath, sequence: incrementalSequence,
                                firstKeptSequence: incrementalSequence)
            phase = .finished
        } catch {
            fail("\(error)")
        }
    }

    /// Gives up: the manifest still names the old files plus the new incremental one, which is a valid log.
    public func fail(_ reason: String) {
        if phase == .snapshotting { close(fd) }
        unlink(temporaryPath)
        phase = .failed(reason)
    }
}
