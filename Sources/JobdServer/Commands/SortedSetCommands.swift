import JobdRESP
import JobdStore
import JobdSystem

/// The sorted-set family with Redis 7.0 semantics (ranges are in
/// SortedSetRanges.swift). A key exists only while it has members.
enum SortedSetCommands {
    /// Reads a score as ZADD does (strtod rules, NaN refused).
    static func score(_ call: Call, _ index: Int) -> Double? {
        guard let value = Numbers.parseDouble(call.args[index]), !value.isNaN else {
            call.reply.error(Errors.notFloat)
            return nil
        }
        return value
    }

    /// A score in a RESP2 bulk string or a RESP3 double.
    @inline(__always)
    static func replyScore(_ reply: ReplyWriter, _ score: Double) { reply.double(score) }

    // MARK: ZADD / ZINCRBY

    struct AddFlags {
        var nx = false, xx = false, gt = false, lt = false, ch = false, incr = false
    }

    /// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
    static func zadd(_ call: Call) {
        var flags = AddFlags()
        var i = 2
        while i < call.count {
            if call.args.matches(i, "NX") { flags.nx = true }
            else if call.args.matches(i, "XX") { flags.xx = true }
            else if call.args.matches(i, "GT") { flags.gt = true }
            else if call.args.matches(i, "LT") { flags.lt = true }
            else if call.args.matches(i, "CH") { flags.ch = true }
            else if call.args.matches(i, "INCR") { flags.incr = true }
            else { break }
            i += 1
        }
        let elements = call.count - i
        guard elements > 0 && elements % 2 == 0 else { return call.syntaxError() }
        if flags.nx && flags.xx { return call.reply.error("ERR XX and NX options at the same time are not compatible") }
        if (flags.gt && flags.nx) || (flags.lt && flags.nx) || (flags.gt && flags.lt) {
            return call.reply.error("ERR GT, LT, and/or NX options at the same time are not compatible")
        }
        if flags.incr && elements > 2 { return call.reply.error("ERR INCR option supports a single increment-element pair") }
        var scores: [Double] = []
        for j in stride(from: i, to: call.count, by: 2) {
            guard let value = score(call, j) else { return }
            scores.append(value)
        }
        add(call, flags: flags, firstPair: i, scores: scores)
    }

    /// ZINCRBY key increment member
    static func zincrby(_ call: Call) {
        guard let increment = score(call, 2) else { return }
        var flags = AddFlags()
        flags.incr = true
        add(call, flags: flags, firstPair: 2, scores: [increment])
    }

    private static func add(_ call: Call, flags: AddFlags, firstPair: Int, scores: [Double]) {
        let zset: SortedSetValue
        var isNew = false
        switch call.sortedSet(1) {
        case .wrongType: return
        case let .found(_, z): zset = z
        case .missing:
            if flags.xx { return flags.incr ? call.reply.nullBulk() : call.reply.integer(0) }
            zset = SortedSetValue()
            isNew = true
        }
        var added = 0, updated = 0
        var result: Double?
        for (n, requested) in scores.enumerated() {
            let member = call.args[firstPair + 2 * n + 1]
            let current = zset.score(member)
            if current != nil && flags.nx { continue }
            if current == nil && flags.xx { continue }
            var newScore = requested
            if flags.incr, let current {
                newScore = current + requested
                if newScore.isNaN {
                    if isNew && !zset.isEmpty { call.db.add(call.args[1], .zset(zset)) }
                    return call.reply.error("ERR resulting score is not a number (NaN)")
                }
            }
            if let current {
                if (flags.gt && newScore <= current) || (flags.lt && newScore >= current) { continue }
                if newScore != current {
                    zset.set(member, score: newScore)
                    updated += 1
                }
            } else {
                zset.set(member, score: newScore)
                added += 1
            }
            result = newScore
        }
        if isNew && !zset.isEmpty { call.db.add(call.args[1], .zset(zset)) }
        if added + updated > 0 {
            if flags.incr, let result {
                // Logged as the resulting score: replay never depends on float arithmetic.
                let key = call.args[1], member = call.args[firstPair + 1], text = Numbers.formatDouble(result)
                call.log { e in e.begin(4); e.argument("ZADD"); e.argument(key); e.argument(text); e.argument(member) }
            } else {
                call.logAsIs()
            }
        }
        if flags.incr {
            guard let result else { return call.reply.nullBulk() }
            return replyScore(call.reply, result)
        }
        call.reply.integer(flags.ch ? added + updated : added)
    }

    // MARK: Removal

    static func zrem(_ call: Call) {
        let entry: KeyEntry, zset: SortedSetValue
        switch call.sortedSet(1) {
        case .wrongType: return
        case .missing: return call.reply.integer(0)
        case let .found(e, z): entry = e; zset = z
        }
        call.removeMembers(entry, remove: { zset.remove($0) }, isEmpty: { zset.isEmpty })
    }

    // MARK: Lookups

    static func zscore(_ call: Call) {
        switch call.sortedSet(1) {
        case .wrongType: return
        case .missing: call.reply.nullBulk()
        case let .found(_, zset):
            if let score = zset.score(call.args[2]) { replyScore(call.reply, score) } else { call.reply.nullBulk() }
        }
    }

    static func zmscore(_ call: Call) {
        var found: SortedSetValue?
        switch call.sortedSet(1) {
        case .wrongType: return
        case .missing: break
        case let .found(_, zset): found = zset
        }
        call.reply.arrayHeader(call.count - 2)
        for i in 2..<call.count {
            if let score = found?.score(call.args[i]) { replyScore(call.reply, score) } else { call.reply.nullBulk() }
        }
    }

    static func zcard(_ call: Call) {
        switch call.sortedSet(1) {
        case .wrongType: return
        case .missing: call.reply.integer(0)
        case let .found(_, zset): call.reply.integer(zset.count)
        }
    }

    /// ZRANK / ZREVRANK key member
    static func zrank(_ call: Call) {
        switch call.sortedSet(1) {
        case .wrongType: return
        case .missing: call.reply.nullBulk()
        case let .found(_, zset):
            guard let score = zset.score(call.args[2]),
                  let rank = zset.order.rank(score: score, member: call.args.bytes(2)) else { return call.reply.nullBulk() }
            call.reply.integer(call.spec.name == "zrevrank" ? zset.count - 1 - rank : rank)
        }
    }

    // MARK: Pops

    /// ZPOPMIN / ZPOPMAX key [count]
    static func zpop(_ call: Call) {
        if call.count > 3 { return call.syntaxError() }
        var count = 1
        if call.count == 3 {
            guard let n = call.integer(2, in: 0...Int64.max, orReply: Errors.mustBePositive) else { return }
            count = Int(min(n, Int64(Int.max)))
        }
        let entry: KeyEntry, zset: SortedSetValue
        switch call.sortedSet(1) {
        case .wrongType: return
        case .missing: return call.reply.emptyArray()
        case let .found(e, z): entry = e; zset = z
        }
        let popped = pop(zset, max: call.spec.name == "zpopmax", count: count)
        if zset.isEmpty { call.db.remove(entry) }
        if !popped.isEmpty { call.logAsIs() }
        let pairs = call.count == 3 && call.reply.isRESP3
        call.reply.arrayHeader(pairs ? popped.count : popped.count * 2)
        for (score, member) in popped {
            if pairs { call.reply.arrayHeader(2) }
            call.reply.bulk(member)
            replyScore(call.reply, score)
        }
    }

    /// Removes up to `count` elements from the low (or high) end, in pop order.
    static func pop(_ zset: SortedSetValue, max: Bool, count: Int) -> [(Double, [UInt8])] {
        let n = min(count, zset.count)
        guard n > 0 else { return [] }
        var popped: [(Double, [UInt8])] = []
        popped.reserveCapacity(n)
        if max {
            zset.removeRanks(zset.count - n, zset.count - 1) { popped.append(($0, $1)) }
            popped.reverse()
        } else {
            zset.removeRanks(0, n - 1) { popped.append(($0, $1)) }
        }
        return popped
    }

    /// BZPOPMIN / BZPOPMAX key [key ...] timeout
    static func bzpop(_ call: Call) {
        guard let deadline = call.blockingDeadline(call.count - 1) else { return }
        let max = call.spec.name == "bzpopmax"
        for i in 1..<(call.count - 1) {
            switch call.sortedSet(i) {
            case .wrongType: return
            case .missing: continue
            case let .found(entry, zset):
                replyPopped(call.reply, key: call.args[i], pop(zset, max: max, count: 1)[0])
                let key = call.args[i]
                call.log { e in e.begin(2); e.argument(max ? "ZPOPMAX" : "ZPOPMIN"); e.argument(key) }
                if zset.isEmpty { call.db.remove(entry) }
                return
            }
        }
        call.server.block(call, keys: (1..<(call.count - 1)).map { call.args.bytes($0) }, deadline: deadline,
                          action: .popSortedSet(max: max))
    }

    /// [key, member, score], BZPOPMIN's reply.
    static func replyPopped(_ reply: ReplyWriter, key: UnsafeRawBufferPointer, _ element: (Double, [UInt8])) {
        reply.arrayHeader(3)
        reply.bulk(key)
        reply.bulk(element.1)
        replyScore(reply, element.0)
    }

    // MARK: Random members and scanning

    /// ZRANDMEMBER key [count [WITHSCORES]]
    static func zrandmember(_ call: Call) {
        if call.count > 4 || (call.count == 4 && !call.args.matches(3, "WITHSCORES")) { return call.syntaxError() }
        let withScores = call.count == 4
        var count: Int?
        if call.count >= 3 {
            guard let value = RandomCount.parse(call, withValues: withScores) else { return }
            count = value
        }
        let zset: SortedSetValue
        switch call.sortedSet(1) {
        case .wrongType: return
        case .missing: return count == nil ? call.reply.nullBulk() : call.reply.emptyArray()
        case let .found(_, z): zset = z
        }
        let table = zset.scores
        guard let count else { return call.reply.bulk(table.members[table.randomSlot(using: &call.server.keyspace.random)]) }
        let n = count < 0 ? -count : min(count, zset.count)
        let pairs = withScores && call.reply.isRESP3
        call.reply.arrayHeader(withScores && !pairs ? n * 2 : n)
        RandomCount.forEachPick(table, count: count, call) { slot in
            if pairs { call.reply.arrayHeader(2) }
            call.reply.bulk(table.members[slot])
            if withScores { replyScore(call.reply, table[slot]) }
        }
    }

    static func zscan(_ call: Call) {
        guard let cursor = CollectionScan.cursor(call) else { return }
        let zset: SortedSetValue
        switch call.sortedSet(1) {
        case .wrongType: return
        case .missing: return CollectionScan.replyEmpty(call)
        case let .found(_, z): zset = z
        }
        guard let scan = CollectionScan(call, cursor: cursor) else { return }
        var items: [([UInt8], Double)] = []
        var next: UInt64 = 0
        if zset.count <= CollectionScan.wholeLimit {
            // Small sorted sets come back whole and in order, as Redis' listpacks do.
            zset.forEach { score, member in if scan.matches(member) { items.append((member, score)) } }
        } else {
            let table = zset.scores
            let step = scan.step(table)
            next = step.next
            items = step.slots.map { (table.members[$0], table[$0]) }
        }
        CollectionScan.replyHeader(call, next: next, items: items.count * 2)
        for (member, score) in items {
            call.reply.bulk(member)
            call.reply.bulk(Numbers.formatDouble(score))  // a bulk string even in RESP3, as Redis
        }
    }
}
