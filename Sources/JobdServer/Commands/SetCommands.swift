import JobdRESP
import JobdStore
import JobdSystem

/// The set family with Redis 7.0 semantics. A set key exists only while it
/// has members. Sets are unordered: replies list members in slot order.
enum SetCommands {
    static func sadd(_ call: Call) {
        let set: SetValue
        var isNew = false
        switch call.set(1) {
        case .wrongType: return
        case let .found(_, s): set = s
        case .missing: set = SetValue(); isNew = true
        }
        var added = 0
        for i in 2..<call.count where set.add(call.args[i]) { added += 1 }
        if isNew { call.db.add(call.args[1], .set(set)) }
        if added > 0 { call.logAsIs() }
        call.reply.integer(added)
    }

    static func srem(_ call: Call) {
        let entry: KeyEntry, set: SetValue
        switch call.set(1) {
        case .wrongType: return
        case .missing: return call.reply.integer(0)
        case let .found(e, s): entry = e; set = s
        }
        call.removeMembers(entry, remove: { set.remove($0) }, isEmpty: { set.isEmpty })
    }

    static func sismember(_ call: Call) {
        switch call.set(1) {
        case .wrongType: return
        case .missing: call.reply.integer(0)
        case let .found(_, set): call.reply.integer(set.contains(call.args[2]) ? 1 : 0)
        }
    }

    static func smismember(_ call: Call) {
        var found: SetValue?
        switch call.set(1) {
        case .wrongType: return
        case .missing: break
        case let .found(_, set): found = set
        }
        call.reply.arrayHeader(call.count - 2)
        for i in 2..<call.count { call.reply.integer(found?.contains(call.args[i]) == true ? 1 : 0) }
    }

    static func scard(_ call: Call) {
        switch call.set(1) {
        case .wrongType: return
        case .missing: call.reply.integer(0)
        case let .found(_, set): call.reply.integer(set.count)
        }
    }

    static func smove(_ call: Call) {
        let db = call.db
        let source = db.lookup(call.args[1]), destination = db.lookup(call.args[2])
        guard let source else { return call.reply.integer(0) }
        guard case let .set(from) = source.value else { return call.wrongType() }
        var to: SetValue?
        if let destination {
            guard case let .set(set) = destination.value else { return call.wrongType() }
            to = set
        }
        if from === to { return call.reply.integer(from.contains(call.args[3]) ? 1 : 0) }
        guard from.remove(call.args[3]) else { return call.reply.integer(0) }
        if from.isEmpty { db.remove(source) }
        if let to {
            to.add(call.args[3])
        } else {
            let set = SetValue()
            set.add(call.args[3])
            db.add(call.args[2], .set(set))
        }
        call.logAsIs()
        call.reply.integer(1)
    }

    // MARK: Random members

    /// SPOP key [count]: the removals are logged as SREM (or DEL when the set is emptied).
    static func spop(_ call: Call) {
        if call.count > 3 { return call.syntaxError() }
        var count: Int?
        if call.count == 3 {
            guard let value = call.integer(2, in: 0...Int64.max, orReply: Errors.mustBePositive) else { return }
            count = Int(value)
        }
        let entry: KeyEntry, set: SetValue
        switch call.set(1) {
        case .wrongType: return
        case .missing: return count == nil ? call.reply.nullBulk() : call.reply.setHeader(0)
        case let .found(e, s): entry = e; set = s
        }
        let key = call.args[1]
        guard let count else {
            let slot = set.members.randomSlot(using: &call.server.keyspace.random)
            let member = set.members.members[slot]
            set.members.remove(slot: slot)
            if set.isEmpty { call.db.remove(entry) }
            call.log { e in e.begin(3); e.argument("SREM"); e.argument(key); e.argument(member) }
            return call.reply.bulk(member)
        }
        if count == 0 { return call.reply.setHeader(0) }
        if count >= set.count {
            call.reply.setHeader(set.count)
            set.forEach { call.reply.bulk($0) }
            call.db.remove(entry)
            call.log { e in e.begin(2); e.argument("DEL"); e.argument(key) }
            return
        }
        var popped: [[UInt8]] = []
        popped.reserveCapacity(count)
        RandomCount.forEachPick(set.members, count: count, call) { popped.append(set.members.members[$0]) }
        call.reply.setHeader(popped.count)
        for member in popped {
            member.withUnsafeBytes { _ = set.remove($0) }
            call.reply.bulk(member)
        }
        // SREM in chunks, so that no single logged command is huge.
        var start = 0
        while start < popped.count {
            let end = min(start + 1024, popped.count)
            call.log { e in
                e.begin(2 + end - start)
                e.argument("SREM")
                e.argument(key)
                for member in popped[start..<end] { e.argument(member) }
            }
            start = end
        }
    }

    /// SRANDMEMBER key [count]
    static func srandmember(_ call: Call) {
        if call.count > 3 { return call.syntaxError() }
        var count: Int?
        if call.count == 3 {
            guard let value = RandomCount.parse(call, withValues: false) else { return }
            count = value
        }
        let set: SetValue
        switch call.set(1) {
        case .wrongType: return
        case .missing: return count == nil ? call.reply.nullBulk() : call.reply.emptyArray()
        case let .found(_, s): set = s
        }
        guard let count else {
            return call.reply.bulk(set.members.members[set.members.randomSlot(using: &call.server.keyspace.random)])
        }
        call.reply.arrayHeader(count < 0 ? -count : min(count, set.count))
        RandomCount.forEachPick(set.members, count: count, call) { call.reply.bulk(set.members.members[$0]) }
    }

    static func sscan(_ call: Call) {
        guard let cursor = CollectionScan.cursor(call) else { return }
        let set: SetValue
        switch call.set(1) {
        case .wrongType: return
        case .missing: return CollectionScan.replyEmpty(call)
        case let .found(_, s): set = s
        }
        guard let scan = CollectionScan(call, cursor: cursor) else { return }
        let (next, slots) = scan.step(set.members)
        CollectionScan.replyHeader(call, next: next, items: slots.count)
        for slot in slots { call.reply.bulk(set.members.members[slot]) }
    }

    // MARK: Algebra

    enum Operation { case intersection, union, difference }

    /// The sets named by arguments `range` (nil for a missing key), or nil after WRONGTYPE.
    private static func operands(_ call: Call, _ range: Range<Int>) -> [SetValue?]? {
        var sets: [SetValue?] = []
        for i in range {
            guard let entry = call.db.lookup(call.args[i]) else { sets.append(nil); continue }
            guard case let .set(set) = entry.value else { call.wrongType(); return nil }
            sets.append(set)
        }
        return sets
    }

    /// The members of the result, computed without changing any operand.
    private static func compute(_ operation: Operation, _ sets: [SetValue?], limit: Int = 0) -> [[UInt8]] {
        var result: [[UInt8]] = []
        switch operation {
        case .intersection:
            if sets.contains(where: { $0 == nil }) { return [] }
            let ordered = sets.map { $0! }.sorted { $0.count < $1.count }
            ordered[0].forEach { member in
                if limit > 0 && result.count >= limit { return }
                if member.withUnsafeBytes({ m in ordered.dropFirst().allSatisfy { $0.contains(m) } }) { result.append(member) }
            }
        case .union:
            let union = SetValue()
            for set in sets { set?.forEach { union.add($0) } }
            result = union.allMembers
        case .difference:
            guard let first = sets[0] else { return [] }
            let others = sets.dropFirst().compactMap { $0 }
            first.forEach { member in
                if member.withUnsafeBytes({ m in !others.contains { $0.contains(m) } }) { result.append(member) }
            }
        }
        return result
    }

    private static func operation(_ name: String) -> Operation {
        name.hasPrefix("sinter") ? .intersection : name.hasPrefix("sunion") ? .union : .difference
    }

    /// SINTER, SUNION, SDIFF.
    static func combine(_ call: Call) {
        guard let sets = operands(call, 1..<call.count) else { return }
        let members = compute(operation(call.spec.name), sets)
        call.reply.setHeader(members.count)
        for member in members { call.reply.bulk(member) }
    }

    /// SINTERSTORE, SUNIONSTORE, SDIFFSTORE: the destination is replaced (or deleted when the result is empty).
    static func combineAndStore(_ call: Call) {
        guard let sets = operands(call, 2..<call.count) else { return }
        let members = compute(operation(call.spec.name), sets)
        if members.isEmpty { return call.storeResult(nil, size: 0) }
        let set = SetValue()
        for member in members { set.members.insert(member, ()) }
        call.storeResult(.set(set), size: members.count)
    }

    /// SINTERCARD numkeys key [key ...] [LIMIT limit]
    static func sintercard(_ call: Call) {
        guard let numkeys = call.integer(1, in: 1...Int64.max, orReply: "ERR numkeys should be greater than 0") else { return }
        guard numkeys <= Int64(call.count - 2) else {
            return call.reply.error("ERR Number of keys can't be greater than number of args")
        }
        let keysEnd = 2 + Int(numkeys)
        var limit = 0
        var i = keysEnd
        while i < call.count {
            guard call.args.matches(i, "LIMIT"), i + 1 < call.count else { return call.syntaxError() }
            guard let value = call.integer(i + 1, in: 0...Int64.max, orReply: "ERR LIMIT can't be negative") else { return }
            limit = Int(min(value, Int64(Int.max)))
            i += 2
        }
        guard let sets = operands(call, 2..<keysEnd) else { return }
        call.reply.integer(compute(.intersection, sets, limit: limit).count)
    }
}
