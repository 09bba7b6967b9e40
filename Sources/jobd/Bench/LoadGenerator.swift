import JobdSystem
import Synchronization

/// Pipelined LPUSH load over TCP, like `redis-benchmark -P 16 lpush`:
/// `clients` threads, each with its own connection, sending `pipeline`
/// commands and then reading their replies, until `total` are answered.
enum LoadGenerator {
    static func lpush(port: Int, queue: String, total: Int, clients: Int, pipeline: Int, payloadSize: Int) throws -> Double {
        let perClient = (total + clients - 1) / clients
        let command = RESPConnection.encode(["LPUSH", queue, String(repeating: "x", count: payloadSize)])
        var batch: [UInt8] = []
        for _ in 0..<pipeline { batch += command }
        let connections = try (0..<clients).map { _ in try RESPConnection(port: port) }
        let failures = Atomic<Int>(0)
        let started = Clock.monotonicNanos()
        let threads = try connections.enumerated().map { index, client in
            try Thread(name: "bench-load-\(index)") { [batch] in
                var sent = 0
                do {
                    while sent < perClient {
                        let n = min(pipeline, perClient - sent)
                        try client.send(n == pipeline ? batch : Array(batch[0..<(command.count * n)]))
                        try client.skipLineReplies(n)
                        sent += n
                    }
                } catch {
                    failures.add(1, ordering: .relaxed)
                }
            }
        }
        for thread in threads { thread.join() }
        let seconds = Double(Clock.monotonicNanos() - started) / 1e9
        if failures.load(ordering: .relaxed) > 0 { throw SystemError("a load connection failed", errno: ECONNRESET) }
        return Double(perClient * clients) / seconds
    }
}

import Glibc
