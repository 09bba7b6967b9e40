import JobdRESP
import JobdStore
import JobdSystem

/// What HSCAN, SSCAN and ZSCAN share: their options, and the rule that a
/// small collection (one Redis keeps packed) is returned whole with cursor 0.
struct CollectionScan {
    let cursor: UInt64
    let count: Int
    let pattern: [UInt8]?

    /// Collections up to this size come back in one reply, as Redis' listpacks and intsets do.
    static let wholeLimit = 128

    /// The cursor argument, checked before the key (as Redis does).
    static func cursor(_ call: Call) -> UInt64? {
        guard let cursor = KeyCommands.parseCursor(call.args[2]) else {
            call.reply.error("ERR invalid cursor")
            return nil
        }
        return cursor
    }

    /// Parses `[MATCH pattern] [COUNT count]` after the key was found, replying with Redis' error when invalid.
    init?(_ call: Call, cursor: UInt64) {
        var count: Int64 = 10
        var pattern: [UInt8]?
        var i = 3
        while i < call.count {
            let more = call.count - i >= 2
            if call.args.matches(i, "COUNT") && more {
                guard let value = call.integer(i + 1) else { return nil }
                if value < 1 { call.syntaxError(); return nil }
                count = value
            } else if call.args.matches(i, "MATCH") && more {
                let p = call.args.bytes(i + 1)
                pattern = (p == [UInt8(ascii: "*")]) ? nil : p
            } else {
                call.syntaxError()
                return nil
            }
            i += 2
        }
        self.cursor = cursor
        self.count = Int(min(count, Int64(Int32.max)))
        self.pattern = pattern
    }

    @inline(__always)
    func matches(_ member: [UInt8]) -> Bool {
        guard let pattern else { return true }
        return pattern.withUnsafeBytes { p in member.withUnsafeBytes { Glob.matches(p, $0) } }
    }

    /// One step over a member table: the slots to return and the next cursor.
    func step<P>(_ table: MemberTable<P>) -> (next: UInt64, slots: [Int]) {
        var slots: [Int] = []
        if table.count <= CollectionScan.wholeLimit {
            for slot in 0..<table.slotCount where table.isUsed(slot) && matches(table.members[slot]) { slots.append(slot) }
            return (0, slots)
        }
        let next = table.scan(cursor: cursor, atLeast: count) { slot in
            if matches(table.members[slot]) { slots.append(slot) }
        }
        return (next, slots)
    }

    /// The reply: [cursor, [items...]].
    static func replyHeader(_ call: Call, next: UInt64, items: Int) {
        call.reply.arrayHeader(2)
        call.reply.bulk(String(next))
        call.reply.arrayHeader(items)
    }

    /// An empty scan of a missing key.
    static func replyEmpty(_ call: Call) { replyHeader(call, next: 0, items: 0) }
}

/// The count argument of HRANDFIELD, SRANDMEMBER and ZRANDMEMBER.
enum RandomCount {
    /// Parses the count; nil after an error reply. Redis bounds it so that a
    /// count with values cannot overflow the reply length.
    static func parse(_ call: Call, withValues: Bool) -> Int? {
        guard let value = call.integer(2) else { return nil }
        if value < -Int64.max {
            call.reply.error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
            return nil
        }
        if withValues && (value < -(Int64.max / 2) || value > Int64.max / 2) {
            call.reply.error("ERR value is out of range")
            return nil
        }
        return Int(value)
    }

    /// Calls `body` with the slots to reply with: `count` distinct members
    /// (all of them when count ≥ size), or -count picks with repetition when
    /// negative. Stops early once the reply passes the client's hard output
    /// limit (the client is disconnected then anyway).
    static func forEachPick<P>(_ table: MemberTable<P>, count: Int, _ call: Call, _ body: (Int) -> Void) {
        let keyspace = call.server.keyspace
        if count < 0 {
            let limit = call.server.normalOutputLimit.hardBytes
            for i in 0..<(-count) {
                body(table.randomSlot(using: &keyspace.random))
                if i & 1023 == 1023 && limit > 0 && call.reply.out.readableCount > limit { return }
            }
            return
        }
        if count >= table.count {
            for slot in 0..<table.slotCount where table.isUsed(slot) { body(slot) }
            return
        }
        if count * 3 > table.count {
            // Many picks: shuffle the used slots and keep a prefix.
            var all = (0..<table.slotCount).filter { table.isUsed($0) }
            all.shuffle(using: &keyspace.random)
            all.prefix(count).forEach(body)
            return
        }
        var chosen = Set<Int>()
        while chosen.count < count {
            let slot = table.randomSlot(using: &keyspace.random)
            if chosen.insert(slot).inserted { body(slot) }
        }
    }
}
