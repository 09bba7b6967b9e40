import JobdPersistence
import JobdRESP
import JobdStore
import JobdSystem

/// Replays the append-only log into the keyspace at start.
///
/// Every file named by the manifest is read in order and every batch's
/// checksum is verified before any of its commands run, so a batch is
/// applied whole or not at all (a MULTI/EXEC never half-applies). A damaged
/// last batch of the last file is a torn tail: it is cut off with a
/// warning (or the start is refused with `aof-load-truncated no`). Damage
/// anywhere else refuses to start and names the file and offset.
struct LogLoader {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    struct Outcome {
        var commands = 0
        var batches = 0
        var bytes = 0
        var truncatedAt: (file: String, offset: Int)?
    }

    let server: Server
    let log: AppendOnlyLog

    func load() throws -> Outcome {
        var outcome = Outcome()
        let paths = log.filePaths
        let totalBytes = paths.reduce(0) { $0 + Int(AppendOnlyLog.fileSize($1)) }
        let replayer = Replayer(server: server)
        var lastReport = Clock.monotonicNanos()
        server.loading = true
        defer { server.loading = false }
        for (index, path) in paths.enumerated() {
            let isLast = index == paths.count - 1
            let file: MappedFile
            do {
                file = try MappedFile(path: path)
            } catch {
                if !isLast || AppendOnlyLog.fileSize(path) > 0 { throw Failure(description: "Can't open the append-only file \(path): \(error)") }
                continue
            }
            var failure: Failure?
            let ending = BatchScanner(file.bytes).forEachBatch { payload, offset in
                do {
                    outcome.commands += try replayer.replay(payload, file: path, batchOffset: offset)
                } catch let error as Failure {
                    failure = error
                    return false
                } catch {
                    failure = Failure(description: "\(error)")
                    return false
                }
                outcome.batches += 1
                let now = Clock.monotonicNanos()
                if now - lastReport > 1_000_000_000 && totalBytes > 0 {
                    lastReport = now
                    let done = outcome.bytes + offset
                    Log.notice("Loading the append-only log: \(done * 100 / totalBytes)% (\(done) of \(totalBytes) bytes)")
                }
                return true
            }
            if let failure { throw failure }
            switch ending {
            case .clean:
                break
            case let .tornTail(offset):
                guard isLast else {
                    throw Failure(description: "Bad file format reading the append only file \(path): damaged data at offset \(offset) and more files follow. Make a backup copy of the log directory and repair it with 'jobd check-aof --fix \(log.manifestPath)'")
                }
                guard server.config.aofLoadTruncated else {
                    throw Failure(description: "The append-only file \(path) ends with an incomplete batch at offset \(offset) and aof-load-truncated is no. Repair it with 'jobd check-aof --fix \(path)' or set aof-load-truncated yes")
                }
                Log.warning("!!! Warning: the append-only file \(path) ends with an incomplete batch at offset \(offset) (a crash during a write): truncating it to \(offset) bytes")
                outcome.truncatedAt = (path, offset)
            case let .corruptMiddle(offset, next):
                throw Failure(description: "Bad file format reading the append only file \(path): the batch at offset \(offset) is damaged (a valid batch follows at \(next)). Make a backup copy of the log directory and repair it with 'jobd check-aof --fix \(path)'")
            }
            outcome.bytes += file.bytes.count
        }
        if let (_, offset) = outcome.truncatedAt { try log.truncateLastFile(to: offset) }
        return outcome
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
    /// Loads the log (if enabled) and starts its sync thread. Call before `run`.
    public func loadAppendOnlyLog() throws {
        guard let aof else { return }
        aof.removeStrayFiles()
        let started = Clock.monotonicNanos()
        let outcome = try LogLoader(server: self, log: aof).load()
        let seconds = Double(Clock.monotonicNanos() - started) / 1e9
        if outcome.commands > 0 || outcome.truncatedAt != nil {
            Log.notice("DB loaded from append only file: \(String(format3: seconds)) seconds, \(outcome.commands) commands in \(outcome.batches) batches, \(keyspace.keyCount) keys")
        }
        try aof.start()
    }
}

extension String {
    init(format3 value: Double) {
        let millis = Int((value * 1000).rounded())
        let fraction = String(millis % 1000)
        self = "\(millis / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
