import JobdRESP
import JobdStore
import JobdSystem

/// The hash family with Redis 7.0 semantics. A hash key exists only while
/// it has fields: the command that removes the last field deletes it.
enum HashCommands {
    /// The hash at argument 1, created (but not yet stored) when missing.
    private static func hashForWrite(_ call: Call) -> (HashValue, isNew: Bool)? {
        switch call.hash(1) {
        case .wrongType: return nil
        case let .found(_, hash): return (hash, false)
        case .missing: return (HashValue(), true)
        }
    }

    // MARK: Writes

    /// HSET key field value [field value ...], and HMSET (which replies OK).
    static func hset(_ call: Call) {
        guard call.count % 2 == 0 else { return call.wrongArity() }
        guard let (hash, isNew) = hashForWrite(call) else { return }
        var added = 0
        for i in stride(from: 2, to: call.count, by: 2) where hash.set(call.args[i], call.args[i + 1]) { added += 1 }
        if isNew { call.db.add(call.args[1], .hash(hash)) }
        call.logAsIs()
        if call.spec.name == "hmset" { call.reply.ok() } else { call.reply.integer(added) }
    }

    static func hsetnx(_ call: Call) {
        guard let (hash, isNew) = hashForWrite(call) else { return }
        if !isNew && hash.value(call.args[2]) != nil { return call.reply.integer(0) }
        hash.set(call.args[2], call.args[3])
        if isNew { call.db.add(call.args[1], .hash(hash)) }
        call.logAsIs()
        call.reply.integer(1)
    }

    static func hdel(_ call: Call) {
        let entry: KeyEntry, hash: HashValue
        switch call.hash(1) {
        case .wrongType: return
        case .missing: return call.reply.integer(0)
        case let .found(e, h): entry = e; hash = h
        }
        call.removeMembers(entry, remove: { hash.remove($0) }, isEmpty: { hash.isEmpty })
    }

    static func hincrby(_ call: Call) {
        guard let increment = call.integer(3) else { return }
        guard let (hash, isNew) = hashForWrite(call) else { return }
        var current: Int64 = 0
        if let bytes = hash.value(call.args[2]) {
            guard let value = Numbers.parseInt64(bytes) else { return call.reply.error("ERR hash value is not an integer") }
            current = value
        }
        let (result, overflow) = current.addingReportingOverflow(increment)
        if overflow { return call.reply.error(Errors.overflow) }
        Array(String(result).utf8).withUnsafeBytes { _ = hash.set(call.args[2], $0) }
        if isNew { call.db.add(call.args[1], .hash(hash)) }
        call.logAsIs()
        call.reply.integer(result)
    }

    static func hincrbyfloat(_ call: Call) {
        // The increment is checked on its own first, as Redis does.
        switch Numbers.incrementFloat(current: nil, by: call.args[3]) {
        case .incrementNotFloat, .currentNotFloat: return call.reply.error(Errors.notFloat)
        case .notFinite: return call.reply.error("ERR value is NaN or Infinity")
        case .value: break
        }
        guard let (hash, isNew) = hashForWrite(call) else { return }
        let current = hash.value(call.args[2])
        switch Numbers.incrementFloat(current: current, by: call.args[3]) {
        case .currentNotFloat:
            call.reply.error("ERR hash value is not a float")
        case .incrementNotFloat:
            call.reply.error(Errors.notFloat)
        case .notFinite:
            call.reply.error("ERR increment would produce NaN or Infinity")
        case let .value(bytes):
            bytes.withUnsafeBytes { _ = hash.set(call.args[2], $0) }
            if isNew { call.db.add(call.args[1], .hash(hash)) }
            // Logged as the resulting value, so that replay never depends on float formatting.
            let key = call.args[1], field = call.args[2]
            call.log { e in e.begin(4); e.argument("HSET"); e.argument(key); e.argument(field); e.argument(bytes) }
            call.reply.bulk(bytes)
        }
    }

    // MARK: Reads

    static func hget(_ call: Call) {
        switch call.hash(1) {
        case .wrongType: return
        case .missing: call.reply.nullBulk()
        case let .found(_, hash):
            if let slot = hash.fields.find(call.args[2]) { call.reply.bulk(hash.fields[slot]) } else { call.reply.nullBulk() }
        }
    }

    static func hmget(_ call: Call) {
        var found: HashValue?
        switch call.hash(1) {
        case .wrongType: return
        case .missing: break
        case let .found(_, hash): found = hash
        }
        call.reply.arrayHeader(call.count - 2)
        for i in 2..<call.count {
            if let hash = found, let slot = hash.fields.find(call.args[i]) { call.reply.bulk(hash.fields[slot]) } else { call.reply.nullBulk() }
        }
    }

    static func hexists(_ call: Call) {
        switch call.hash(1) {
        case .wrongType: return
        case .missing: call.reply.integer(0)
        case let .found(_, hash): call.reply.integer(hash.fields.find(call.args[2]) == nil ? 0 : 1)
        }
    }

    static func hlen(_ call: Call) {
        switch call.hash(1) {
        case .wrongType: return
        case .missing: call.reply.integer(0)
        case let .found(_, hash): call.reply.integer(hash.count)
        }
    }

    static func hstrlen(_ call: Call) {
        switch call.hash(1) {
        case .wrongType: return
        case .missing: call.reply.integer(0)
        case let .found(_, hash): call.reply.integer(hash.value(call.args[2])?.count ?? 0)
        }
    }

    /// HGETALL (a map in RESP3), HKEYS, HVALS.
    static func hgetall(_ call: Call) {
        let name = call.spec.name
        let keys = name != "hvals", values = name != "hkeys"
        var found: HashValue?
        switch call.hash(1) {
        case .wrongType: return
        case .missing: break
        case let .found(_, hash): found = hash
        }
        let count = found?.count ?? 0
        if keys && values { call.reply.mapHeader(count) } else { call.reply.arrayHeader(count) }
        found?.fields.forEach { field, value in
            if keys { call.reply.bulk(field) }
            if values { call.reply.bulk(value) }
        }
    }

    /// HRANDFIELD key [count [WITHVALUES]]
    static func hrandfield(_ call: Call) {
        if call.count > 4 || (call.count == 4 && !call.args.matches(3, "WITHVALUES")) { return call.syntaxError() }
        let withValues = call.count == 4
        var count: Int?
        if call.count >= 3 {
            guard let value = RandomCount.parse(call, withValues: withValues) else { return }
            count = value
        }
        let hash: HashValue
        switch call.hash(1) {
        case .wrongType: return
        case .missing: return count == nil ? call.reply.nullBulk() : call.reply.emptyArray()
        case let .found(_, h): hash = h
        }
        guard let count else {
            return call.reply.bulk(hash.fields.members[hash.fields.randomSlot(using: &call.server.keyspace.random)])
        }
        let n = count < 0 ? -count : min(count, hash.count)
        let pairs = withValues && call.reply.isRESP3
        call.reply.arrayHeader(withValues && !pairs ? n * 2 : n)
        RandomCount.forEachPick(hash.fields, count: count, call) { slot in
            if pairs { call.reply.arrayHeader(2) }
            call.reply.bulk(hash.fields.members[slot])
            if withValues { call.reply.bulk(hash.fields[slot]) }
        }
    }

    static func hscan(_ call: Call) {
        guard let cursor = CollectionScan.cursor(call) else { return }
        let hash: HashValue
        switch call.hash(1) {
        case .wrongType: return
        case .missing: return CollectionScan.replyEmpty(call)
        case let .found(_, h): hash = h
        }
        guard let scan = CollectionScan(call, cursor: cursor) else { return }
        let (next, slots) = scan.step(hash.fields)
        CollectionScan.replyHeader(call, next: next, items: slots.count * 2)
        for slot in slots {
            call.reply.bulk(hash.fields.members[slot])
            call.reply.bulk(hash.fields[slot])
        }
    }
}
