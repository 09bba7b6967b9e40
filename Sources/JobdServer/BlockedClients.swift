import JobdRESP
import JobdStore
import JobdSystem

/// Blocking list pops: blocking a client, serving it when a list appears
/// (right after the command that pushed, so a pipeline sees the same
/// order as with Redis), and replying null when its timeout passes.
extension Server {
    /// Puts the calling client to sleep on `keys` until one holds a list.
    func block(_ call: Call, keys: [[UInt8]], deadline: Int64, action: BlockedCommand.Action) {
        if executingTransaction {
            // Inside EXEC nothing else can run, so waiting is pointless: answer as a timeout (Redis 7.0).
            switch action {
            case .move: call.reply.nullBulk()
            case .leaseJobs: call.reply.emptyArray()
            default: call.reply.nullArray()  // XREAD too
            }
            return
        }
        let serial = blocking.makeSerial()
        blocking.block(call.client, BlockedCommand(action: action, keys: keys, database: call.client.databaseIndex,
                                                   deadline: deadline, serial: serial))
        if deadline > 0 { timeouts.insert(deadline, BlockTimeout(client: call.client, serial: serial)) }
    }

    /// The keyspace hook for new keys: a new list may wake blocked clients.
    func keyAdded(_ db: Database, _ entry: KeyEntry) {
        switch entry.value {
        case .list, .zset: blocking.keyReady(database: db.index, key: entry.key)
        default: break
        }
    }

    /// Serves blocked clients, oldest first, for every key that became ready;
    /// a BLMOVE may make its destination ready, which is served in turn.
    func serveReadyKeys() {
        while blocking.hasReadyKeys {
            for ref in blocking.takeReadyKeys() {
                let db = keyspace[ref.database]
                var listExhausted = false
                for client in blocking.waiting(on: ref) {
                    guard let command = client.blocked else { continue }
                    if case let .readStreams(after, count) = command.action {
                        // Reading takes nothing away: every waiter with news is served.
                        _ = serveStreamRead(client, command, key: ref.key, db: db, after: after, count: count)
                        continue
                    }
                    if case let .popSortedSet(max) = command.action {
                        serveSortedSetPop(client, key: ref.key, db: db, max: max)
                        continue
                    }
                    if case let .leaseJobs(count, lease) = command.action {
                        serveJobLease(client, command, count: count, lease: lease)
                        continue
                    }
                    guard !listExhausted, let entry = ref.key.withUnsafeBytes({ db.lookup($0) }),
                          case let .list(list) = entry.value, !list.isEmpty else { listExhausted = true; continue }
                    if let rewrite {
                        rewrite.preserve(entry, in: db)
                        if case let .move(_, _, destination) = command.action {
                            destination.withUnsafeBytes { rewrite.preserve(key: $0, in: db) }
                        }
                    }
                    serve(client, command, key: ref.key, entry: entry, list: list, db: db)
                    if !watchers.isEmpty {
                        ref.key.withUnsafeBytes { touch(database: db.index, key: $0) }
                        if case let .move(_, _, destination) = command.action {
                            destination.withUnsafeBytes { touch(database: db.index, key: $0) }
                        }
                    }
                }
            }
        }
    }

    private func serve(_ client: Client, _ command: BlockedCommand, key: [UInt8], entry: KeyEntry,
                       list: ListValue, db: Database) {
        let reply = writer(for: client)
        if repliesWaitForLog {
            holdReplyForDurability(client, replyStart: client.bytesSent + Int64(reply.out.readableCount))
        }
        switch command.action {
        case .readStreams, .popSortedSet, .leaseJobs, .waitResult:
            return  // served by serveStreamRead, serveSortedSetPop, serveJobLease, answerResultWaiters
        case let .pop(end):
            reply.arrayHeader(2)
            reply.bulk(key)
            popOne(list, end) { reply.bulk($0) }
            key.withUnsafeBytes { ListCommands.logPop(self, database: db.index, key: $0, end: end, count: 0) }
        case let .popMany(end, count):
            reply.arrayHeader(2)
            reply.bulk(key)
            let n = min(count, list.count)
            reply.arrayHeader(n)
            for _ in 0..<n { popOne(list, end) { reply.bulk($0) } }
            key.withUnsafeBytes { ListCommands.logPop(self, database: db.index, key: $0, end: end, count: n) }
        case let .move(from, to, destination):
            let target = destination.withUnsafeBytes { db.lookup($0) }
            if let target, case .list = target.value {} else if target != nil {
                // Redis 7.0 answers the waiter with WRONGTYPE and leaves the source alone.
                reply.error(Errors.wrongType)
                finishServing(client)
                return
            }
            guard let element = popOne(list, from, { Array($0) }) else { return }
            // Push before deleting: source and destination may be the same list.
            ListCommands.push(element, to: to, key: destination, in: db, existing: target)
            key.withUnsafeBytes { source in
                destination.withUnsafeBytes { target in
                    ListCommands.logMove(self, database: db.index, source: source, destination: target, from: from, to: to)
                }
            }
            reply.bulk(element)
            if list.isEmpty && entry !== target { db.remove(entry) }
            finishServing(client)
            return
        }
        if list.isEmpty { db.remove(entry) }
        finishServing(client)
    }

    /// BZPOPMIN/BZPOPMAX: [key, member, score] from the sorted set now at `key`, if it has one.
    private func serveSortedSetPop(_ client: Client, key: [UInt8], db: Database, max: Bool) {
        guard let entry = key.withUnsafeBytes({ db.lookup($0) }), case let .zset(zset) = entry.value, !zset.isEmpty else { return }
        rewrite?.preserve(entry, in: db)
        let reply = writer(for: client)
        if repliesWaitForLog {
            holdReplyForDurability(client, replyStart: client.bytesSent + Int64(reply.out.readableCount))
        }
        let element = SortedSetCommands.pop(zset, max: max, count: 1)[0]
        key.withUnsafeBytes { SortedSetCommands.replyPopped(reply, key: $0, element) }
        log(db.index) { e in e.begin(2); e.argument(max ? "ZPOPMAX" : "ZPOPMIN"); e.argument(key) }
        if zset.isEmpty { db.remove(entry) }
        if !watchers.isEmpty { key.withUnsafeBytes { touch(database: db.index, key: $0) } }
        finishServing(client)
    }

    @discardableResult
    private func popOne<R>(_ list: ListValue, _ end: ListEnd, _ body: (UnsafeRawBufferPointer) -> R) -> R? {
        end == .head ? list.popFront(body) : list.popBack(body)
    }

    func finishServing(_ client: Client) {
        blocking.unblock(client)
        client.lastInteraction = keyspace.now
        queueForUnblockedProcessing(client)
    }

    /// The client's pipelined commands after the blocking one run at the end of this turn.
    func queueForUnblockedProcessing(_ client: Client) {
        guard !client.queuedForUnblock else { return }
        client.queuedForUnblock = true
        unblockedQueue.append(client)
    }

    func processUnblockedClients() {
        while !unblockedQueue.isEmpty {
            let batch = unblockedQueue
            unblockedQueue.removeAll()
            for client in batch {
                client.queuedForUnblock = false
                guard !client.closeNow, !client.isBlocked, let input = client.pendingInput else { continue }
                processInput(client, input)
                if input.isEmpty && !client.closeNow { client.pendingInput = nil }
            }
        }
    }

    /// Replies null to blocked clients whose timeout has passed.
    func expireBlockTimeouts() {
        let now = keyspace.now
        while let due = timeouts.popDue(now) {
            guard let client = due.client, !client.closeNow, client.blocked?.serial == due.serial else { continue }
            if case let .waitResult(handle)? = client.blocked?.action {
                resultWaiters[handle]?.removeAll { $0 === client }
                if resultWaiters[handle]?.isEmpty == true { resultWaiters[handle] = nil }
                writer(for: client).nullBulk()
                finishServing(client)
                continue
            }
            if case .leaseJobs? = client.blocked?.action {
                writer(for: client).emptyArray()
                finishServing(client)
                continue
            }
            // Redis 7.0 answers every timed-out list wait, BLMOVE included, with a null array.
            writer(for: client).nullArray()
            finishServing(client)
        }
    }
}
