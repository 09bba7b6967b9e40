import JobdRESP
import JobdStore
import JobdSystem

/// A key a client watches: database and name.
struct WatchedKey: Hashable {
    let database: Int
    let key: [UInt8]
}

/// A client between MULTI and EXEC/DISCARD.
struct TransactionState {
    var queued: [(spec: CommandSpec, args: OwnedArguments)] = []
    /// A command was refused while queuing: EXEC answers EXECABORT.
    var refused = false
}

/// What WATCH recorded about a key, so that EXEC also fails when the key
/// merely expired meanwhile (Redis 7.0's isWatchedKeyExpired).
struct WatchRecord {
    let key: WatchedKey
    let hadExpiry: Bool
}

/// MULTI/EXEC/DISCARD/WATCH/UNWATCH with Redis semantics. Commands queued
/// in MULTI run back to back inside EXEC, so their log records land in one
/// batch and are replayed all or nothing. WATCH is optimistic locking: any
/// change to a watched key (a write that logged a change, an expiry, a
/// FLUSH or SWAPDB that touches it) makes the watcher's EXEC fail with a null reply.
extension Server {
    /// Queues a command sent between MULTI and EXEC, or refuses it.
    func queueInTransaction(_ client: Client, _ spec: CommandSpec, _ args: Arguments, _ reply: ReplyWriter) {
        if spec.flags.contains(.noMulti) {
            client.transaction?.refused = true
            reply.error("ERR Command not allowed inside a transaction")
            stats.totalErrorReplies += 1
            return
        }
        client.transaction?.queued.append((spec, OwnedArguments(args)))
        reply.simpleString("QUEUED")
    }

    /// Marks the transaction of `client` as failed (an error while queuing).
    func refuseTransaction(_ client: Client) {
        client.transaction?.refused = true
    }

    // MARK: Watching

    func watch(_ client: Client, key: [UInt8]) {
        let watched = WatchedKey(database: client.databaseIndex, key: key)
        if client.watching.contains(where: { $0.key == watched }) { return }
        let entry = key.withUnsafeBytes { keyspace[watched.database].lookup($0) }
        client.watching.append(WatchRecord(key: watched, hadExpiry: entry?.hasExpiry ?? false))
        watchers[watched, default: []].append(client)
    }

    func unwatchAll(_ client: Client) {
        for record in client.watching {
            guard var list = watchers[record.key] else { continue }
            list.removeAll { $0 === client }
            watchers[record.key] = list.isEmpty ? nil : list
        }
        client.watching.removeAll()
        client.watchedKeyChanged = false
    }

    /// A key changed: its watchers' next EXEC fails.
    @inline(__always)
    func touch(database: Int, key: UnsafeRawBufferPointer) {
        guard !watchers.isEmpty, let list = watchers[WatchedKey(database: database, key: Array(key))] else { return }
        for client in list { client.watchedKeyChanged = true }
    }

    /// After a write command changed something: every key it names is touched.
    func touchKeys(of spec: CommandSpec, _ args: Arguments, database: Int) {
        if !spec.keys.hasKeys { return }  // FLUSHDB, FLUSHALL, SWAPDB touch what they change themselves
        for index in spec.keys.indices(args) { touch(database: database, key: args[index]) }
    }

    /// FLUSHDB/FLUSHALL/SWAPDB: watched keys that exist in `db` (or in `other`) are touched.
    func touchWatchedKeys(in db: Database, orIn other: Database? = nil) {
        for (watched, list) in watchers where watched.database == db.index {
            let exists = watched.key.withUnsafeBytes { db.lookup($0) != nil || other?.lookup($0) != nil }
            if exists { for client in list { client.watchedKeyChanged = true } }
        }
    }

    /// True when a key that had a TTL at WATCH time is now gone by expiry.
    private func watchedKeyExpired(_ client: Client) -> Bool {
        for record in client.watching where record.hadExpiry {
            let db = keyspace[record.key.database]
            let stored = record.key.key.withUnsafeBytes { db.storedEntry($0) }
            if let stored, stored.hasExpiry, keyspace.now > stored.expiresAt { return true }
        }
        return false
    }

    // MARK: EXEC

    func execTransaction(_ call: Call) {
        let client = call.client
        guard let transaction = client.transaction else { return call.reply.error("ERR EXEC without MULTI") }
        client.transaction = nil
        if transaction.refused {
            unwatchAll(client)
            return call.reply.error("EXECABORT Transaction discarded because of previous errors.")
        }
        if client.watchedKeyChanged || watchedKeyExpired(client) {
            unwatchAll(client)
            return call.reply.nullArray()
        }
        // Unwatch first: the transaction's own writes must not count against it.
        unwatchAll(client)
        call.reply.arrayHeader(transaction.queued.count)
        executingTransaction = true
        defer { executingTransaction = false }
        for (spec, args) in transaction.queued {
            if let aof, aof.isFailing, spec.flags.contains(.write) {
                call.reply.error("MISCONF Errors writing to the AOF file: \(aof.lastWriteError?.description ?? "short write")")
                continue
            }
            args.withArguments { run(spec, $0, client, call.reply) }
            stats.commandsProcessed += 1
        }
    }
}

/// The transaction commands.
enum TransactionCommands {
    static func multi(_ call: Call) {
        if call.client.transaction != nil { return call.reply.error("ERR MULTI calls can not be nested") }
        call.client.transaction = TransactionState()
        call.reply.ok()
    }

    static func exec(_ call: Call) { call.server.execTransaction(call) }

    static func discard(_ call: Call) {
        guard call.client.transaction != nil else { return call.reply.error("ERR DISCARD without MULTI") }
        call.client.transaction = nil
        call.server.unwatchAll(call.client)
        call.reply.ok()
    }

    static func watch(_ call: Call) {
        if call.client.transaction != nil { return call.reply.error("ERR WATCH inside MULTI is not allowed") }
        for i in 1..<call.count { call.server.watch(call.client, key: call.args.bytes(i)) }
        call.reply.ok()
    }

    static func unwatch(_ call: Call) {
        call.server.unwatchAll(call.client)
        call.reply.ok()
    }
}
