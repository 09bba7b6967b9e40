import JobdQueue
import JobdRESP
import JobdStore
import JobdSystem

/// The list family with Redis 7.0 semantics. A list key exists only while
/// it has elements: the command that removes the last element deletes it.
enum ListCommands {
    /// The list at `key`, nil when missing; replies WRONGTYPE and returns .wrongType otherwise.
    enum Lookup { case missing, list(KeyEntry, ListValue), wrongType }

    @inline(__always)
    static func lookup(_ call: Call, _ index: Int) -> Lookup {
        guard let entry = call.db.lookup(call.args[index]) else { return .missing }
        guard case let .list(list) = entry.value else {
            call.wrongType()
            return .wrongType
        }
        return .list(entry, list)
    }

    static func end(_ call: Call) -> ListEnd { call.spec.nameBytes.first == UInt8(ascii: "l") ? .head : .tail }

    /// Pushes `element` onto the list at `key` (creating it), as LMOVE's second half.
    static func push(_ element: [UInt8], to end: ListEnd, key: [UInt8], in db: Database, existing: KeyEntry?) {
        if let existing, case let .list(list) = existing.value {
            end == .head ? list.pushFront(element) : list.pushBack(element)
            return
        }
        let list = ListValue()
        end == .head ? list.pushFront(element) : list.pushBack(element)
        db.add(key, .list(list))
    }

    // MARK: Push

    /// LPUSH, RPUSH, LPUSHX, RPUSHX. In a queue with priorities, LPUSH
    /// adds at the head of the queue's default level and RPUSH at its tail.
    static func push(_ call: Call) {
        let onlyIfExists = call.spec.nameBytes.last == UInt8(ascii: "x")
        let atHead = end(call) == .head
        let list: ListValue
        var created = false
        switch lookup(call, 1) {
        case .wrongType: return
        case let .list(_, existing): list = existing
        case .missing:
            if onlyIfExists { return call.reply.integer(0) }
            list = ListValue()
            created = true
        }
        let queue = call.server.queueForPush(call)
        let level = queue.defaultPriority
        if level != PriorityLevels.defaultLevel || list.levels != nil {
            for i in 2..<call.count { list.push(call.args[i], level: level, atLevelHead: atHead) }
        } else {
            for i in 2..<call.count { atHead ? list.pushFront(call.args[i]) : list.pushBack(call.args[i]) }
        }
        call.server.jobs.notePush(queue, level: level, count: call.count - 2, frontOfLine: !atHead, now: call.now)
        if created { call.db.add(call.args[1], .list(list)) }
        call.logAsIs()
        call.reply.integer(list.count)
    }

    // MARK: Pop

    /// LPOP, RPOP with an optional count.
    static func pop(_ call: Call) {
        if call.count > 3 { return call.wrongArity() }
        let hasCount = call.count == 3
        var count: Int64 = 0
        if hasCount {
            guard let value = call.integer(2, in: 0...Int64.max, orReply: Errors.mustBePositive) else { return }
            count = value
        }
        let entry: KeyEntry, list: ListValue
        switch lookup(call, 1) {
        case .wrongType: return
        case .missing: return hasCount ? call.reply.nullArray() : call.reply.nullBulk()
        case let .list(e, l): entry = e; list = l
        }
        let where_ = end(call)
        if hasCount && count == 0 { return call.reply.emptyArray() }
        if !hasCount {
            popElement(list, where_) { call.reply.bulk($0) }
        } else {
            let n = Int(min(count, Int64(list.count)))
            call.reply.arrayHeader(n)
            for _ in 0..<n { popElement(list, where_) { call.reply.bulk($0) } }
        }
        call.logAsIs()
        if list.isEmpty { call.db.remove(entry) }
    }

    @inline(__always)
    static func popElement(_ list: ListValue, _ end: ListEnd, _ body: (UnsafeRawBufferPointer) -> Void) {
        if end == .head { list.popFront(body) } else { list.popBack(body) }
    }

    /// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]
    static func lmpop(_ call: Call) {
        guard let parsed = parseMultiPop(call, numkeysIndex: 1) else { return }
        for key in parsed.keys {
            switch lookup(call, key) {
            case .wrongType: return
            case .missing: continue
            case let .list(entry, list):
                replyPoppedRange(call, key: key, list: list, end: parsed.end, count: parsed.count)
                if list.isEmpty { call.db.remove(entry) }
                return
            }
        }
        call.reply.nullArray()
    }

    struct MultiPop {
        let keys: [Int]
        let end: ListEnd
        let count: Int
    }

    static func parseMultiPop(_ call: Call, numkeysIndex: Int) -> MultiPop? {
        guard let numkeys = call.integer(numkeysIndex, in: 1...Int64.max, orReply: "ERR numkeys should be greater than 0") else { return nil }
        // Compare before adding, so a huge numkeys cannot overflow.
        guard numkeys < Int64(call.count - numkeysIndex - 1) else {
            call.syntaxError()
            return nil
        }
        let w = numkeysIndex + Int(numkeys) + 1
        let end: ListEnd
        if call.args.matches(w, "LEFT") { end = .head } else if call.args.matches(w, "RIGHT") { end = .tail } else {
            call.syntaxError()
            return nil
        }
        var count: Int64 = -1
        var j = w + 1
        while j < call.count {
            if count == -1 && call.args.matches(j, "COUNT") && j + 1 < call.count {
                guard let value = call.integer(j + 1, in: 1...Int64.max, orReply: "ERR count should be greater than 0") else { return nil }
                count = value
                j += 2
            } else {
                call.syntaxError()
                return nil
            }
        }
        return MultiPop(keys: Array((numkeysIndex + 1)...(numkeysIndex + Int(numkeys))), end: end,
                        count: count == -1 ? 1 : Int(min(count, Int64(Int.max))))
    }

    /// [key, [elements]] for up to `count` elements popped from `end`; logged as LPOP/RPOP key n.
    static func replyPoppedRange(_ call: Call, key: Int, list: ListValue, end: ListEnd, count: Int) {
        let reply = call.reply
        reply.arrayHeader(2)
        reply.bulk(call.args[key])
        let n = min(count, list.count)
        reply.arrayHeader(n)
        for _ in 0..<n { popElement(list, end) { reply.bulk($0) } }
        logPop(call.server, database: call.client.databaseIndex, key: call.args[key], end: end, count: n)
    }

    /// Logs a pop as the plain LPOP/RPOP it amounts to (count 0 means a single-element pop).
    static func logPop(_ server: Server, database: Int, key: UnsafeRawBufferPointer, end: ListEnd, count: Int) {
        server.log(database) { e in
            e.begin(count > 0 ? 3 : 2)
            e.argument(end == .head ? "LPOP" : "RPOP")
            e.argument(key)
            if count > 0 { e.argument(Int64(count)) }
        }
    }

    /// Logs a move as LMOVE (blocking moves and RPOPLPUSH included).
    static func logMove(_ server: Server, database: Int, source: UnsafeRawBufferPointer,
                        destination: UnsafeRawBufferPointer, from: ListEnd, to: ListEnd) {
        server.log(database) { e in
            e.begin(5)
            e.argument("LMOVE")
            e.argument(source)
            e.argument(destination)
            e.argument(from == .head ? "LEFT" : "RIGHT")
            e.argument(to == .head ? "LEFT" : "RIGHT")
        }
    }

    // MARK: Reading

    static func llen(_ call: Call) {
        switch lookup(call, 1) {
        case .wrongType: return
        case .missing: call.reply.integer(0)
        case let .list(_, list): call.reply.integer(list.count)
        }
    }

    static func lindex(_ call: Call) {
        let list: ListValue
        switch lookup(call, 1) {
        case .wrongType: return
        case .missing: return call.reply.nullBulk()
        case let .list(_, l): list = l
        }
        guard var index = call.integer(2) else { return }
        if index < 0 { index += Int64(list.count) }
        guard index >= 0 && index < Int64(list.count) else { return call.reply.nullBulk() }
        list.element(at: Int(index)) { call.reply.bulk($0) }
    }

    static func lrange(_ call: Call) {
        guard let start = call.integer(2), let stop = call.integer(3) else { return }
        switch lookup(call, 1) {
        case .wrongType: return
        case .missing: call.reply.emptyArray()
        case let .list(_, list): replyRange(call.reply, list, start, stop)
        }
    }

    /// Redis' addListRangeReply: negative indexes from the end, clamped.
    static func replyRange(_ reply: ReplyWriter, _ list: ListValue, _ startIndex: Int64, _ stopIndex: Int64) {
        let length = Int64(list.count)
        var start = startIndex < 0 ? length + startIndex : startIndex
        var stop = stopIndex < 0 ? length + stopIndex : stopIndex
        if start < 0 { start = 0 }
        if start > stop || start >= length { return reply.emptyArray() }
        if stop >= length { stop = length - 1 }
        var remaining = Int(stop - start + 1)
        reply.arrayHeader(remaining)
        list.forEach(from: Int(start)) { element in
            reply.bulk(element)
            remaining -= 1
            return remaining > 0
        }
    }

    static func lpos(_ call: Call) {
        var rank: Int64 = 1
        var count: Int64 = -1
        var maxlen: Int64 = 0
        var j = 3
        while j < call.count {
            let more = j + 1 < call.count
            if call.args.matches(j, "RANK") && more {
                guard let value = call.integer(j + 1) else { return }
                if value == 0 {
                    return call.reply.error("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
                }
                rank = value
            } else if call.args.matches(j, "COUNT") && more {
                guard let value = call.integer(j + 1, in: 0...Int64.max, orReply: "ERR COUNT can't be negative") else { return }
                count = value
            } else if call.args.matches(j, "MAXLEN") && more {
                guard let value = call.integer(j + 1, in: 0...Int64.max, orReply: "ERR MAXLEN can't be negative") else { return }
                maxlen = value
            } else {
                return call.syntaxError()
            }
            j += 2
        }
        let fromTail = rank < 0
        if fromTail { rank = rank == Int64.min ? Int64.max : -rank }
        let list: ListValue
        switch lookup(call, 1) {
        case .wrongType: return
        case .missing: return count != -1 ? call.reply.emptyArray() : call.reply.nullBulk()
        case let .list(_, l): list = l
        }
        let element = call.args[2]
        let length = list.count
        var positions: [Int] = []
        var index = 0
        var matches: Int64 = 0
        let visit: (UnsafeRawBufferPointer) -> Bool = { data in
            if maxlen != 0 && Int64(index) >= maxlen { return false }
            if data.elementsEqual(element) {
                matches += 1
                if matches >= rank {
                    positions.append(fromTail ? length - index - 1 : index)
                    if count == -1 { return false }
                    if count != 0 && matches - rank + 1 >= count { return false }
                }
            }
            index += 1
            return true
        }
        if fromTail { list.forEachReversed(visit) } else { list.forEach(visit) }
        if count != -1 {
            call.reply.arrayHeader(positions.count)
            for p in positions { call.reply.integer(p) }
        } else if let first = positions.first {
            call.reply.integer(first)
        } else {
            call.reply.nullBulk()
        }
    }

    // MARK: Changing

    static func lset(_ call: Call) {
        let list: ListValue
        switch lookup(call, 1) {
        case .wrongType: return
        case .missing: return call.reply.error(Errors.noSuchKey)
        case let .list(_, l): list = l
        }
        guard var index = call.integer(2) else { return }
        if index < 0 { index += Int64(list.count) }
        guard index >= 0 && index < Int64(list.count) else { return call.reply.error(Errors.outOfRange) }
        list.set(at: Int(index), to: call.args[3])
        call.logAsIs()
        call.reply.ok()
    }

    static func lrem(_ call: Call) {
        guard let toRemove = call.integer(2) else { return }
        switch lookup(call, 1) {
        case .wrongType: return
        case .missing: call.reply.integer(0)
        case let .list(entry, list):
            let limit = toRemove == Int64.min ? Int.max : Int(abs(toRemove))
            let removed = list.removeAll(equalTo: call.args[3], limit: limit, fromBack: toRemove < 0)
            if removed > 0 { call.logAsIs() }
            if list.isEmpty { call.db.remove(entry) }
            call.reply.integer(removed)
        }
    }

    static func ltrim(_ call: Call) {
        guard let startIndex = call.integer(2), let stopIndex = call.integer(3) else { return }
        switch lookup(call, 1) {
        case .wrongType: return
        case .missing: call.reply.ok()
        case let .list(entry, list):
            let length = Int64(list.count)
            var start = startIndex < 0 ? length + startIndex : startIndex
            var stop = stopIndex < 0 ? length + stopIndex : stopIndex
            if start < 0 { start = 0 }
            var trimFront: Int64, trimBack: Int64
            if start > stop || start >= length {
                trimFront = length
                trimBack = 0
            } else {
                if stop >= length { stop = length - 1 }
                trimFront = start
                trimBack = length - stop - 1
            }
            list.removeFirst(Int(trimFront))
            list.removeLast(Int(trimBack))
            if trimFront + trimBack > 0 { call.logAsIs() }
            if list.isEmpty { call.db.remove(entry) }
            call.reply.ok()
        }
    }

    static func linsert(_ call: Call) {
        let after: Bool
        if call.args.matches(2, "AFTER") { after = true } else if call.args.matches(2, "BEFORE") { after = false } else {
            return call.syntaxError()
        }
        switch lookup(call, 1) {
        case .wrongType: return
        case .missing: call.reply.integer(0)
        case let .list(_, list):
            guard let pivot = list.firstIndex(of: call.args[3]) else { return call.reply.integer(-1) }
            list.insert(call.args[4], at: after ? pivot + 1 : pivot)
            call.logAsIs()
            call.reply.integer(list.count)
        }
    }

    // MARK: Moving

    static func lmove(_ call: Call) {
        guard let from = side(call, 3), let to = side(call, 4) else { return }
        move(call, from: from, to: to)
    }

    static func rpoplpush(_ call: Call) { move(call, from: .tail, to: .head) }

    static func side(_ call: Call, _ index: Int) -> ListEnd? {
        if call.args.matches(index, "LEFT") { return .head }
        if call.args.matches(index, "RIGHT") { return .tail }
        call.syntaxError()
        return nil
    }

    /// LMOVE's work once the source is known to be a non-empty list (or missing).
    static func move(_ call: Call, from: ListEnd, to: ListEnd) {
        let db = call.db
        let source: KeyEntry, list: ListValue
        switch lookup(call, 1) {
        case .wrongType: return
        case .missing: return call.reply.nullBulk()
        case let .list(e, l): source = e; list = l
        }
        let target = db.lookup(call.args[2])
        if let target, case .list = target.value {} else if target != nil { return call.wrongType() }
        guard let element = from == .head ? list.popFront() : list.popBack() else { return call.reply.nullBulk() }
        // Source and destination may be the same list: pop first, then push.
        push(element, to: to, key: call.args.bytes(2), in: db, existing: target)
        logMove(call.server, database: call.client.databaseIndex, source: call.args[1], destination: call.args[2],
                from: from, to: to)
        call.reply.bulk(element)
        if list.isEmpty && source !== target { db.remove(source) }
    }
}
