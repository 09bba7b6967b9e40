@testable import JobdQueue
import JobdStore

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// An engine on a fake clock, with every log record it writes.
final class Harness {
    static let epoch: Int64 = 1_000_000

    let engine = JobEngine(keyspace: Keyspace(databaseCount: 1, now: 0))
    var now = Harness.epoch
    /// (database, words including the leading "JOBD", clock at the time).
    var log: [(database: Int, words: [[UInt8]], now: Int64)] = []

    init(recording: Bool = false) {
        if recording { engine.onRecord = { [unowned self] database, record in
            let entry: (database: Int, words: [[UInt8]], now: Int64) = (database, decodeRecord(record), self.now)
            self.log.append(entry)
        } }
    }

    @discardableResult
    func add(_ queue: String, _ payload: String, _ options: String...) throws -> JobRecord {
        try addReturningExisted(queue, payload, options).record
    }

    func addReturningExisted(_ queue: String, _ payload: String, _ options: [String]) throws -> (record: JobRecord, existed: Bool) {
        let request = try JobRequestParser.parse(queue: bytes(queue), payload: bytes(payload), words: options.map(bytes)[...], now: now)
        return try engine.add(request, database: 0, now: now)
    }

    func lease(_ queues: String..., count: Int = 1, holder: Int64 = 1, millis: Int64? = nil) -> [JobRecord] {
        engine.lease(database: 0, from: queues.map(bytes), count: count, leaseMillis: millis, holder: holder, now: now)
    }

    func leaseOne(_ queue: String, holder: Int64 = 1, millis: Int64? = nil) -> JobRecord? {
        lease(queue, holder: holder, millis: millis).first
    }

    func ack(_ r: JobRecord, _ result: String = "ok", holder: Int64 = 1) throws {
        try engine.ack(r.id, result: bytes(result), holder: holder, now: now)
    }

    func fail(_ r: JobRecord, _ error: String = "boom", retryIn: Int64? = nil, dead: Bool = false, holder: Int64 = 1) throws {
        try engine.fail(r.id, error: bytes(error), retryIn: retryIn, dead: dead, holder: holder, now: now)
    }

    func advance(to time: Int64) {
        now = time
        engine.advance(now: time)
    }

    /// The queue's list, head to tail: (payload, tag, level).
    func list(_ queue: String) -> [(payload: String, tag: UInt64, level: Int)] {
        guard let (_, list) = engine.list(QueueKey(database: 0, name: bytes(queue))) else { return [] }
        var out: [(String, UInt64, Int)] = []
        list.forEachJob { data, tag, level in out.append((String(decoding: data, as: UTF8.self), tag, level)) }
        return out
    }

    /// Payloads in the order they would be leased (tail first, most urgent level first).
    func line(_ queue: String) -> [String] { list(queue).reversed().map(\.payload) }

    func state(_ queue: String) -> QueueState? { engine.queue(QueueKey(database: 0, name: bytes(queue))) }
}
