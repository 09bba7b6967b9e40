import JobdRESP
import JobdStore
import JobdSystem

/// Commands that work on keys of any type: DEL, EXISTS, EXPIRE, TTL, TYPE,
/// KEYS, SCAN, RENAME, RANDOMKEY and the expiry variants.
enum KeyCommands {
    static func del(_ call: Call) {
        var removed = 0
        for i in 1..<call.count where call.db.remove(call.args[i]) { removed += 1 }
        if removed > 0 { call.logAsIs() }
        call.reply.integer(removed)
    }

    static func exists(_ call: Call) {
        var found = 0
        for i in 1..<call.count where call.db.peek(call.args[i]) != nil { found += 1 }
        call.reply.integer(found)
    }

    static func type(_ call: Call) {
        guard let entry = call.db.peek(call.args[1]) else { return call.reply.simpleString("none") }
        call.reply.simpleString(entry.value.typeName)
    }

    // MARK: Expiry

    static func expire(_ call: Call) {
        let name = call.spec.name
        let seconds = name == "expire" || name == "expireat"
        let relative = name == "expire" || name == "pexpire"
        expireGeneric(call, base: relative ? call.now : 0, seconds: seconds)
    }

    private struct ExpireCondition: OptionSet {
        let rawValue: Int
        static let nx = ExpireCondition(rawValue: 1)
        static let xx = ExpireCondition(rawValue: 2)
        static let gt = ExpireCondition(rawValue: 4)
        static let lt = ExpireCondition(rawValue: 8)
    }

    private static func expireGeneric(_ call: Call, base: Int64, seconds: Bool) {
        var condition: ExpireCondition = []
        for i in 3..<max(3, call.count) {
            if call.args.matches(i, "NX") { condition.insert(.nx) }
            else if call.args.matches(i, "XX") { condition.insert(.xx) }
            else if call.args.matches(i, "GT") { condition.insert(.gt) }
            else if call.args.matches(i, "LT") { condition.insert(.lt) }
            else { return call.reply.error("ERR Unsupported option \(Server.shown(call.args[i], limit: Int.max))") }
        }
        if condition.contains(.nx) && !condition.isDisjoint(with: [.xx, .gt, .lt]) {
            return call.reply.error("ERR NX and XX, GT or LT options at the same time are not compatible")
        }
        if condition.contains(.gt) && condition.contains(.lt) {
            return call.reply.error("ERR GT and LT options at the same time are not compatible")
        }
        guard var when = call.integer(2) else { return }
        let invalid = "ERR invalid expire time in '\(call.spec.fullName)' command"
        if seconds {
            if when > Int64.max / 1000 || when < Int64.min / 1000 { return call.reply.error(invalid) }
            when *= 1000
        }
        if when > Int64.max - base { return call.reply.error(invalid) }
        when += base
        let db = call.db
        guard let entry = db.lookup(call.args[1]) else { return call.reply.integer(0) }
        let current = entry.expiresAt
        let none = KeyEntry.persistent
        if condition.contains(.nx) && current != none { return call.reply.integer(0) }
        if condition.contains(.xx) && current == none { return call.reply.integer(0) }
        if condition.contains(.gt) && (current == none || when <= current) { return call.reply.integer(0) }
        if condition.contains(.lt) && current != none && when >= current { return call.reply.integer(0) }
        let key = call.args[1]
        if when <= call.now {
            db.remove(entry)
            call.log { e in e.begin(2); e.argument("DEL"); e.argument(key) }
        } else {
            db.setExpiry(entry, at: when)
            // Always an absolute time, so replaying the log later gives the same deadline.
            call.log { e in e.begin(3); e.argument("PEXPIREAT"); e.argument(key); e.argument(when) }
        }
        call.reply.integer(1)
    }

    /// TTL, PTTL, EXPIRETIME, PEXPIRETIME.
    static func ttl(_ call: Call) {
        let name = call.spec.name
        let millis = name.hasPrefix("p")
        let absolute = name.hasSuffix("expiretime")
        guard let entry = call.db.peek(call.args[1]) else { return call.reply.integer(-2) }
        guard entry.hasExpiry else { return call.reply.integer(-1) }
        var ttl = absolute ? entry.expiresAt : entry.expiresAt - call.now
        if ttl < 0 { ttl = 0 }
        call.reply.integer(millis ? ttl : (ttl + 500) / 1000)
    }

    static func persist(_ call: Call) {
        guard let entry = call.db.lookup(call.args[1]) else { return call.reply.integer(0) }
        let removed = call.db.clearExpiry(entry)
        if removed { call.logAsIs() }
        call.reply.integer(removed ? 1 : 0)
    }

    // MARK: Enumeration

    static func keys(_ call: Call) {
        let pattern = call.args[1]
        let all = pattern.count == 1 && pattern[0] == UInt8(ascii: "*")
        var matched: [[UInt8]] = []
        call.db.forEachLive { entry in
            if all || entry.key.withUnsafeBytes({ Glob.matches(pattern, $0) }) { matched.append(entry.key) }
        }
        call.reply.arrayHeader(matched.count)
        for key in matched { call.reply.bulk(key) }
    }

    static func scan(_ call: Call) {
        guard let cursor = parseCursor(call.args[1]) else { return call.reply.error("ERR invalid cursor") }
        var count: Int64 = 10
        var pattern: [UInt8]?
        var typeName: [UInt8]?
        var i = 2
        while i < call.count {
            let more = call.count - i >= 2
            if call.args.matches(i, "COUNT") && more {
                guard let value = call.integer(i + 1) else { return }
                if value < 1 { return call.syntaxError() }
                count = value
            } else if call.args.matches(i, "MATCH") && more {
                let p = call.args.bytes(i + 1)
                pattern = (p == [UInt8(ascii: "*")]) ? nil : p
            } else if call.args.matches(i, "TYPE") && more {
                typeName = call.args.bytes(i + 1)
            } else {
                return call.syntaxError()
            }
            i += 2
        }
        var found: [[UInt8]] = []
        let next = call.db.scan(cursor: cursor, count: Int(min(count, Int64(Int32.max)))) { entry in
            if let pattern, !pattern.withUnsafeBytes({ p in entry.key.withUnsafeBytes { Glob.matches(p, $0) } }) { return }
            if let typeName, !typeName.withUnsafeBytes({ t in
                ASCII.equalsIgnoringCase(t, Array("\(entry.value.typeName)".utf8))
            }) { return }
            found.append(entry.key)
        }
        call.reply.arrayHeader(2)
        call.reply.bulk(String(next))
        call.reply.arrayHeader(found.count)
        for key in found { call.reply.bulk(key) }
    }

    /// Redis parses cursors with strtoul: optional sign, digits, nothing after.
    static func parseCursor(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
        if bytes.isEmpty { return 0 }
        if ASCII.isSpace(bytes[0]) { return nil }
        var i = 0
        var negative = false
        if bytes[0] == UInt8(ascii: "+") || bytes[0] == UInt8(ascii: "-") {
            negative = bytes[0] == UInt8(ascii: "-")
            i = 1
        }
        var value: UInt64 = 0
        var digits = 0
        while i < bytes.count {
            let d = bytes[i] &- 48
            guard d <= 9 else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(d))
            if o1 || o2 { return nil }
            value = a
            digits += 1
            i += 1
        }
        if digits == 0 { return i == 0 ? 0 : nil }
        return negative ? 0 &- value : value
    }

    static func randomkey(_ call: Call) {
        guard let entry = call.db.randomEntry() else { return call.reply.nullBulk() }
        call.reply.bulk(entry.key)
    }

    // MARK: Renaming

    static func rename(_ call: Call) {
        let nx = call.spec.name == "renamenx"
        let db = call.db
        guard let source = db.lookup(call.args[1]) else { return call.reply.error(Errors.noSuchKey) }
        if call.args[1].elementsEqual(call.args[2]) { return nx ? call.reply.integer(0) : call.reply.ok() }
        if let target = db.lookup(call.args[2]) {
            if nx { return call.reply.integer(0) }
            db.remove(target)
        }
        relocate(source, from: db, to: db, as: call.args.bytes(2))
        call.logAsIs()
        nx ? call.reply.integer(1) : call.reply.ok()
    }

    /// MOVE key db: moves the key (with its TTL) to another database, unless
    /// the key is there already. A queue's list takes its pending jobs along.
    static func move(_ call: Call) {
        guard let index = call.integer(2, orReply: "ERR value is not an integer or out of range") else { return }
        let databases = call.server.keyspace.databases
        guard index >= 0 && index < Int64(databases.count) else { return call.reply.error("ERR DB index is out of range") }
        let destination = databases[Int(index)], source = call.db
        if destination === source { return call.reply.error("ERR source and destination objects are the same") }
        guard let entry = source.lookup(call.args[1]) else { return call.reply.integer(0) }
        if destination.lookup(call.args[1]) != nil { return call.reply.integer(0) }
        if let rewrite = call.server.rewrite { rewrite.preserve(key: call.args[1], in: destination) }
        relocate(entry, from: source, to: destination, as: entry.key)
        call.logAsIs()
        call.server.touch(database: Int(index), key: call.args[1])
        call.reply.integer(1)
    }

    /// RENAME and MOVE: the value and its TTL go under `name` in `destination`.
    private static func relocate(_ entry: KeyEntry, from source: Database, to destination: Database, as name: [UInt8]) {
        let expiry = entry.expiresAt
        source.remove(entry)
        let moved = destination.add(name, entry.value)
        if expiry != KeyEntry.persistent { destination.setExpiry(moved, at: expiry) }
    }
}
