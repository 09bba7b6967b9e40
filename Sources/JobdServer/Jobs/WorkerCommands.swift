import JobdQueue
import JobdRESP
import JobdSystem

/// WORKER.LIST and WORKER.SCALE: the in-process worker pools at runtime.
enum WorkerCommands {
    /// WORKER.LIST: one map per pool (queues, handler, concurrency, busy, idle, counts, handler times).
    static func list(_ call: Call) {
        let pools = call.server.jobs.pools
        call.reply.arrayHeader(pools.count)
        for pool in pools { replyPool(call.reply, call.server.workerPoolFields(pool)) }
    }

    static func replyPool(_ reply: ReplyWriter, _ fields: [(String, String)]) {
        reply.mapHeader(fields.count)
        for (name, value) in fields {
            reply.bulk(name)
            if let number = Int(value) { reply.integer(number) } else { reply.bulk(value) }
        }
    }

    /// WORKER.SCALE queue n: sets the number of workers of the pool serving `queue` (or named `q1,q2`).
    static func scale(_ call: Call) {
        guard let count = Numbers.parseInt64(call.args[2]), count >= 0, count <= Int64(WorkerPoolSpec.maxConcurrency) else {
            return call.reply.error("ERR worker count must be an integer in 0..\(WorkerPoolSpec.maxConcurrency)")
        }
        let name = Array(call.args[1])
        // A pool a reload is stopping (draining) cannot be scaled.
        let pools = call.server.jobs.pools.filter { !$0.draining }
        guard let pool = pools.first(where: { Array($0.spec.name.utf8) == name })
                ?? pools.first(where: { $0.spec.queues.contains(name) }) else {
            return call.reply.error("ERR no worker pool serves '\(String(decoding: name.prefix(128), as: UTF8.self))'")
        }
        if call.server.shutdownRequested { return call.reply.error("ERR the server is shutting down") }
        do {
            try pool.scale(to: Int(count))
        } catch {
            return call.reply.error("ERR cannot start a worker thread: \(error)")
        }
        Log.notice("Worker pool '\(pool.spec.name)' scaled to \(count)")
        call.reply.integer(pool.concurrency)
    }
}
