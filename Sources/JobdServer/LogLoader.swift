import JobdPersistence
import JobdRESP
import JobdStore
import JobdSystem

/// Replays the append-only log into the keyspace at start, a slice per
/// loop turn, so that the server answers (INFO shows `loading:1` and the
/// progress, other commands get -LOADING) while a large log loads.
///
/// Every file named by the manifest is read in order and every batch's
/// checksum is verified before any of its commands run, so a batch is
/// applied whole or not at all (a MULTI/EXEC never half-applies). A damaged
/// last batch of the last file is a torn tail: it is cut off with a
/// warning (or the start is refused with `aof-load-truncated no`). Damage
/// anywhere else refuses to start and names the file and offset.
final class LogLoader {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let server: Server
    let log: AppendOnlyLog
    let paths: [String]
    let totalBytes: Int
    let startedAtMillis = Clock.wallMillis()
    private let startedAt = Clock.monotonicNanos()
    private let replayer: Replayer
    private var fileIndex = 0
    private var file: MappedFile?
    private var offset = 0
    private var doneBytes = 0
    private var lastReport = Clock.monotonicNanos()
    private(set) var commands = 0
    private(set) var batches = 0
    private var truncateAt: Int?

    init(server: Server, log: AppendOnlyLog) {
        self.server = server
        self.log = log
        paths = log.filePaths
        totalBytes = paths.reduce(0) { $0 + Int(AppendOnlyLog.fileSize($1)) }
        replayer = Replayer(server: server)
    }

    var loadedBytes: Int { doneBytes + offset }

    var fraction: Double { totalBytes == 0 ? 1 : Double(loadedBytes) / Double(totalBytes) }

    var elapsedSeconds: Double { Double(Clock.monotonicNanos() - startedAt) / 1e9 }

    /// Loads for about `budgetNanos`; returns true once everything is loaded.
    func step(budgetNanos: Int64) throws -> Bool {
        let deadline = Clock.monotonicNanos() + budgetNanos
        while fileIndex < paths.count {
            let path = paths[fileIndex]
            let isLast = fileIndex == paths.count - 1
            if file == nil {
                do {
                    file = try MappedFile(path: path)
                } catch {
                    if !isLast || AppendOnlyLog.fileSize(path) > 0 {
                        throw Failure(description: "Can't open the append-only file \(path): \(error)")
                    }
                    fileIndex += 1
                    continue
                }
                offset = 0
            }
            let bytes = file!.bytes
            while offset < bytes.count {
                let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
                guard let size = BatchFormat.validBatch(at: rest) else {
                    try damaged(at: offset, in: bytes, path: path, isLast: isLast)
                    break
                }
                let payload = UnsafeRawBufferPointer(rebasing: rest[BatchFormat.headerSize..<size])
                commands += try replayer.replay(payload, file: path, batchOffset: offset)
                batches += 1
                offset += size
                if Clock.monotonicNanos() > deadline {
                    reportProgress()
                    return false
                }
            }
            doneBytes += bytes.count
            offset = 0
            file = nil
            fileIndex += 1
        }
        if let truncateAt { try log.truncateLastFile(to: truncateAt) }
        return true
    }

    private func damaged(at offset: Int, in bytes: UnsafeRawBufferPointer, path: String, isLast: Bool) throws {
        if let next = BatchScanner(bytes).nextValidBatch(after: offset) {
            throw Failure(description: "Bad file format reading the append only file \(path): the batch at offset \(offset) is damaged (a valid batch follows at \(next)). Make a backup copy of the log directory and repair it with 'jobd check-aof --fix \(path)'")
        }
        guard isLast else {
            throw Failure(description: "Bad file format reading the append only file \(path): damaged data at offset \(offset) and more files follow. Make a backup copy of the log directory and repair it with 'jobd check-aof --fix \(log.manifestPath)'")
        }
        guard server.config.aofLoadTruncated else {
            throw Failure(description: "The append-only file \(path) ends with an incomplete batch at offset \(offset) and aof-load-truncated is no. Repair it with 'jobd check-aof --fix \(path)' or set aof-load-truncated yes")
        }
        Log.warning("!!! Warning: the append-only file \(path) ends with an incomplete batch at offset \(offset) (a crash during a write): truncating it to \(offset) bytes")
        truncateAt = offset
    }

    private func reportProgress() {
        let now = Clock.monotonicNanos()
        guard now - lastReport > 1_000_000_000, totalBytes > 0 else { return }
        lastReport = now
        Log.notice("Loading the append-only log: \(Int(fraction * 100))% (\(loadedBytes) of \(totalBytes) bytes)")
    }
}

/// Runs logged commands against the keyspace, without a network client.
private final class Replayer {
    let server: Server
    let client: Client
    let parser = RequestParser()
    let input = ByteBuffer(capacity: 64 * 1024)
    let discard = ByteBuffer(capacity: 4096)

    init(server: Server) {
        self.server = server
        var limits = RequestLimits()
        limits.maxBulkLength = Int.max
        limits.maxMultibulkLength = Int.max
        client = Client(id: 0, fd: -1, peer: Socket.Peer(host: "aof", port: 0, isUnix: true, isLoopback: true),
                        local: Socket.Peer(host: "aof", port: 0, isUnix: true, isLoopback: true),
                        now: 0, authenticated: true, limits: limits)
        parser.limits = limits
    }

    /// Runs every command of one batch; returns how many.
    func replay(_ payload: UnsafeRawBufferPointer, file: String, batchOffset: Int) throws -> Int {
        input.clear()
        input.append(payload)
        server.keyspace.now = Clock.wallMillis()
        var count = 0
        while true {
            switch parser.parse(input) {
            case .incomplete:
                guard input.isEmpty else {
                    throw LogLoader.Failure(description: "Bad file format reading the append only file \(file): a command is cut short in the batch at offset \(batchOffset)")
                }
                return count
            case .empty:
                parser.finishCommand(input)
            case let .protocolError(message):
                throw LogLoader.Failure(description: "Bad file format reading the append only file \(file): \(message) in the batch at offset \(batchOffset)")
            case let .command(args):
                try run(args, file: file, batchOffset: batchOffset)
                parser.finishCommand(input)
                count += 1
            }
        }
    }

    private func run(_ args: Arguments, file: String, batchOffset: Int) throws {
        var spec = server.commands.lookup(args[0])
        if let found = spec, found.isContainer, args.count >= 2 { spec = found.subcommand(args[1]) }
        guard let spec, spec.acceptsArgumentCount(args.count), spec.flags.contains(.write) || spec.name == "select" else {
            throw LogLoader.Failure(description: "Bad file format reading the append only file \(file): unknown or malformed command '\(Server.shown(args[0], limit: 64))' in the batch at offset \(batchOffset)")
        }
        discard.clear()
        spec.handler(Call(server: server, client: client, spec: spec, args: args,
                          reply: ReplyWriter(out: discard, version: .resp2)))
        if discard.readableCount > 0 && discard.readPointer.load(as: UInt8.self) == UInt8(ascii: "-") {
            let text = String(decoding: discard.readableBytes.prefix(200).dropFirst().prefix { $0 != 13 }, as: UTF8.self)
            throw LogLoader.Failure(description: "Replaying the append only file \(file) failed at the batch at offset \(batchOffset): \(text)")
        }
    }
}

extension Server {
    /// Starts loading the log (if enabled); the loop loads it a slice per turn
    /// and starts the sync thread when done. Call before `run`.
    public func beginLoadingAppendOnlyLog() {
        guard let aof else { return }
        aof.removeStrayFiles()
        loader = LogLoader(server: self, log: aof)
        loading = true
        notifyLoading(0)
    }

    /// One slice of loading; on completion the server starts logging, on
    /// damage it stops (`startupFailure` says why).
    func advanceLoading() {
        guard let loader, let aof else { return }
        do {
            guard try loader.step(budgetNanos: 20_000_000) else { return notifyLoading(loader.fraction) }
            self.loader = nil
            loading = false
            if loader.commands > 0 {
                Log.notice("DB loaded from append only file: \(String(format3: loader.elapsedSeconds)) seconds, \(loader.commands) commands in \(loader.batches) batches, \(keyspace.keyCount) keys")
            }
            try aof.start()
            jobs.finishLoading(now: keyspace.now)
            becameReady()
        } catch {
            Log.warning("\(error)")
            startupFailure = "\(error)"
            requestShutdown()
        }
    }

    /// INFO persistence fields while loading.
    func loadingInfoFields() -> [(String, String)] {
        guard let loader else { return [] }
        let fraction = loader.fraction
        let eta = fraction > 0 ? Int(loader.elapsedSeconds / fraction * (1 - fraction)) : 1
        return [
            ("loading_start_time", String(loader.startedAtMillis / 1000)),
            ("loading_total_bytes", String(loader.totalBytes)),
            ("loading_loaded_bytes", String(loader.loadedBytes)),
            ("loading_loaded_perc", String(format: fraction * 100)),
            ("loading_eta_seconds", String(eta)),
        ]
    }
}

extension String {
    /// Two decimals, as Redis prints percentages.
    init(format value: Double) {
        let hundredths = Int((value * 100).rounded())
        let fraction = String(hundredths % 100)
        self = "\(hundredths / 100)." + String(repeating: "0", count: 2 - fraction.count) + fraction
    }

    init(format3 value: Double) {
        let millis = Int((value * 1000).rounded())
        let fraction = String(millis % 1000)
        self = "\(millis / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
