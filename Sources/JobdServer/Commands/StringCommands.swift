import JobdRESP
import JobdStore
import JobdSystem

/// GET, SET and the rest of the string family, with Redis 7.0 semantics.
enum StringCommands {
    /// Options of SET and GETEX (Redis' parseExtendedStringArgumentsOrReply).
    struct ExpiryOptions {
        var nx = false, xx = false, get = false, keepTTL = false, persist = false
        enum Unit { case seconds, milliseconds }
        var expireArgument: Int?
        var unit = Unit.seconds
        var relative = true
    }

    enum OptionContext { case set, getex }

    /// Parses options from argument 3 (SET) or 2 (GETEX); replies "syntax error" on failure.
    static func parseOptions(_ call: Call, from start: Int, _ context: OptionContext) -> ExpiryOptions? {
        var o = ExpiryOptions()
        var hasExpire: Bool { o.expireArgument != nil }
        var j = start
        let args = call.args
        while j < args.count {
            let hasNext = j + 1 < args.count
            if context == .set && args.matches(j, "NX") && !o.xx {
                o.nx = true
            } else if context == .set && args.matches(j, "XX") && !o.nx {
                o.xx = true
            } else if context == .set && args.matches(j, "GET") {
                o.get = true
            } else if context == .set && args.matches(j, "KEEPTTL") && !o.persist && !hasExpire {
                o.keepTTL = true
            } else if context == .getex && args.matches(j, "PERSIST") && !hasExpire && !o.keepTTL {
                o.persist = true
            } else if hasNext && !o.keepTTL && !o.persist, let (unit, relative) = expiryKind(args, j),
                      o.expireArgument == nil || (o.unit == unit && o.relative == relative) {
                o.unit = unit
                o.relative = relative
                o.expireArgument = j + 1
                j += 1
            } else {
                call.syntaxError()
                return nil
            }
            j += 1
        }
        return o
    }

    private static func expiryKind(_ args: Arguments, _ j: Int) -> (ExpiryOptions.Unit, Bool)? {
        if args.matches(j, "EX") { return (.seconds, true) }
        if args.matches(j, "PX") { return (.milliseconds, true) }
        if args.matches(j, "EXAT") { return (.seconds, false) }
        if args.matches(j, "PXAT") { return (.milliseconds, false) }
        return nil
    }

    /// The absolute expiry in ms for an EX/PX/EXAT/PXAT argument, or nil after replying.
    static func expiryMillis(_ call: Call, _ o: ExpiryOptions) -> Int64?? {
        guard let index = o.expireArgument else { return .some(nil) }
        guard var value = call.integer(index) else { return nil }
        if value <= 0 || (o.unit == .seconds && value > Int64.max / 1000) {
            call.reply.error("ERR invalid expire time in '\(call.spec.fullName)' command")
            return nil
        }
        if o.unit == .seconds { value *= 1000 }
        if o.relative {
            let (sum, overflow) = value.addingReportingOverflow(call.now)
            if overflow {
                call.reply.error("ERR invalid expire time in '\(call.spec.fullName)' command")
                return nil
            }
            value = sum
        }
        return .some(value)
    }

    // MARK: GET / SET

    static func get(_ call: Call) {
        guard let entry = call.db.lookup(call.args[1]) else {
            call.server.stats.keyspaceMisses += 1
            call.reply.nullBulk()
            return
        }
        call.server.stats.keyspaceHits += 1
        guard case let .string(bytes) = entry.value else { return call.wrongType() }
        call.reply.bulk(bytes)
    }

    static func set(_ call: Call) {
        guard let options = parseOptions(call, from: 3, .set) else { return }
        setGeneric(call, key: 1, value: 2, options: options, okReply: true)
    }

    /// SET's core, shared by SETEX, PSETEX and SETNX.
    static func setGeneric(_ call: Call, key: Int, value: Int, options: ExpiryOptions, okReply: Bool) {
        guard let expiry = expiryMillis(call, options) else { return }
        let db = call.db
        let existing = db.lookup(call.args[key])
        if options.get {
            if let existing {
                guard case let .string(old) = existing.value else { return call.wrongType() }
                call.reply.bulk(old)
            } else {
                call.reply.nullBulk()
            }
        }
        if (options.nx && existing != nil) || (options.xx && existing == nil) {
            if !options.get { call.reply.nullBulk() }
            return
        }
        let bytes = call.args.bytes(value)
        let entry: KeyEntry
        if let existing {
            existing.value = .string(bytes)
            if !options.keepTTL { db.clearExpiry(existing) }
            entry = existing
        } else {
            entry = db.add(call.args[key], .string(bytes))
        }
        if let expiry { db.setExpiry(entry, at: expiry) }
        // The effect: the value, with an absolute expiry time or the old TTL kept.
        let args = call.args
        call.log { e in
            e.begin(expiry != nil ? 5 : options.keepTTL ? 4 : 3)
            e.argument("SET")
            e.argument(args[key])
            e.argument(args[value])
            if let expiry {
                e.argument("PXAT")
                e.argument(expiry)
            } else if options.keepTTL {
                e.argument("KEEPTTL")
            }
        }
        if !options.get && okReply { call.reply.ok() }
    }

    static func setnx(_ call: Call) {
        if call.db.lookup(call.args[1]) != nil {
            call.reply.integer(0)
            return
        }
        call.db.add(call.args[1], .string(call.args.bytes(2)))
        let args = call.args
        call.log { e in e.begin(3); e.argument("SET"); e.argument(args[1]); e.argument(args[2]) }
        call.reply.integer(1)
    }

    static func setex(_ call: Call) {
        var options = ExpiryOptions()
        options.expireArgument = 2
        options.unit = call.spec.name == "psetex" ? .milliseconds : .seconds
        setGeneric(call, key: 1, value: 3, options: options, okReply: true)
    }

    static func getex(_ call: Call) {
        guard let options = parseOptions(call, from: 2, .getex) else { return }
        let db = call.db
        guard let entry = db.lookup(call.args[1]) else { return call.reply.nullBulk() }
        guard case let .string(bytes) = entry.value else { return call.wrongType() }
        guard let expiry = expiryMillis(call, options) else { return }
        call.reply.bulk(bytes)
        let key = call.args[1]
        if let expiry {
            if !options.relative && expiry <= call.now {
                db.remove(entry)
                call.log { e in e.begin(2); e.argument("DEL"); e.argument(key) }
            } else {
                db.setExpiry(entry, at: expiry)
                call.log { e in e.begin(3); e.argument("PEXPIREAT"); e.argument(key); e.argument(expiry) }
            }
        } else if options.persist && db.clearExpiry(entry) {
            call.log { e in e.begin(2); e.argument("PERSIST"); e.argument(key) }
        }
    }

    static func getdel(_ call: Call) {
        let db = call.db
        guard let entry = db.lookup(call.args[1]) else { return call.reply.nullBulk() }
        guard case let .string(bytes) = entry.value else { return call.wrongType() }
        call.reply.bulk(bytes)
        db.remove(entry)
        let key = call.args[1]
        call.log { e in e.begin(2); e.argument("DEL"); e.argument(key) }
    }

    static func mget(_ call: Call) {
        call.reply.arrayHeader(call.count - 1)
        for i in 1..<call.count {
            if let entry = call.db.lookup(call.args[i]), case let .string(bytes) = entry.value {
                call.reply.bulk(bytes)
            } else {
                call.reply.nullBulk()
            }
        }
    }

    static func mset(_ call: Call) {
        guard call.count % 2 == 1 else { return call.wrongArity() }
        let nx = call.spec.name == "msetnx"
        let db = call.db
        if nx {
            for i in stride(from: 1, to: call.count, by: 2) where db.lookup(call.args[i]) != nil {
                return call.reply.integer(0)
            }
        }
        for i in stride(from: 1, to: call.count, by: 2) {
            db.set(call.args[i], .string(call.args.bytes(i + 1)))
        }
        call.logAsIs()
        if nx { call.reply.integer(1) } else { call.reply.ok() }
    }

    // MARK: Counters

    static func incr(_ call: Call) { incrementBy(call, 1) }
    static func decr(_ call: Call) { incrementBy(call, -1) }

    static func incrby(_ call: Call) {
        guard let amount = call.integer(2) else { return }
        incrementBy(call, amount)
    }

    static func decrby(_ call: Call) {
        guard let amount = call.integer(2) else { return }
        if amount == Int64.min { return call.reply.error("ERR decrement would overflow") }
        incrementBy(call, -amount)
    }

    private static func incrementBy(_ call: Call, _ amount: Int64) {
        let db = call.db
        let entry = db.lookup(call.args[1])
        var current: Int64 = 0
        if let entry {
            guard case let .string(bytes) = entry.value else { return call.wrongType() }
            guard let value = Numbers.parseInt64(bytes) else { return call.reply.error(Errors.notInteger) }
            current = value
        }
        let (result, overflow) = current.addingReportingOverflow(amount)
        if overflow { return call.reply.error(Errors.overflow) }
        let bytes = Array(String(result).utf8)
        if let entry { entry.value = .string(bytes) } else { db.add(call.args[1], .string(bytes)) }
        call.logAsIs()
        call.reply.integer(result)
    }

    static func incrbyfloat(_ call: Call) {
        let db = call.db
        let entry = db.lookup(call.args[1])
        var current: [UInt8]?
        if let entry {
            guard case let .string(bytes) = entry.value else { return call.wrongType() }
            current = bytes
        }
        switch Numbers.incrementFloat(current: current, by: call.args[2]) {
        case .currentNotFloat, .incrementNotFloat:
            call.reply.error(Errors.notFloat)
        case .notFinite:
            call.reply.error("ERR increment would produce NaN or Infinity")
        case let .value(bytes):
            if let entry { entry.value = .string(bytes) } else { db.add(call.args[1], .string(bytes)) }
            // Logged as the resulting value, so that replay never depends on float formatting.
            let key = call.args[1]
            call.log { e in e.begin(4); e.argument("SET"); e.argument(key); e.argument(bytes); e.argument("KEEPTTL") }
            call.reply.bulk(bytes)
        }
    }

    // MARK: Byte ranges

    static func append(_ call: Call) {
        let db = call.db
        let addition = call.args[2]
        guard let entry = db.lookup(call.args[1]) else {
            db.add(call.args[1], .string(Array(addition)))
            call.logAsIs()
            return call.reply.integer(addition.count)
        }
        guard case var .string(bytes) = entry.value else { return call.wrongType() }
        guard bytes.count + addition.count <= call.server.config.protoMaxBulkLen else {
            return call.reply.error(Errors.tooBig)
        }
        entry.value = .string([])  // keep the array uniquely referenced while appending
        bytes.append(contentsOf: addition)
        entry.value = .string(bytes)
        call.logAsIs()
        call.reply.integer(bytes.count)
    }

    static func strlen(_ call: Call) {
        guard let entry = call.db.lookup(call.args[1]) else { return call.reply.integer(0) }
        guard case let .string(bytes) = entry.value else { return call.wrongType() }
        call.reply.integer(bytes.count)
    }

    static func getrange(_ call: Call) {
        guard var start = call.integer(2), var end = call.integer(3) else { return }
        guard let entry = call.db.lookup(call.args[1]) else { return call.reply.bulk("") }
        guard case let .string(bytes) = entry.value else { return call.wrongType() }
        let length = Int64(bytes.count)
        if start < 0 && end < 0 && start > end { return call.reply.bulk("") }
        if start < 0 { start = length + start }
        if end < 0 { end = length + end }
        if start < 0 { start = 0 }
        if end < 0 { end = 0 }
        if end >= length { end = length - 1 }
        if start > end || length == 0 { return call.reply.bulk("") }
        bytes.withUnsafeBytes { raw in
            call.reply.bulk(UnsafeRawBufferPointer(rebasing: raw[Int(start)...Int(end)]))
        }
    }

    static func setrange(_ call: Call) {
        guard let offset = call.integer(2) else { return }
        if offset < 0 { return call.reply.error("ERR offset is out of range") }
        let value = call.args[3]
        let db = call.db
        let limit = Int64(call.server.config.protoMaxBulkLen)
        guard let entry = db.lookup(call.args[1]) else {
            if value.isEmpty { return call.reply.integer(0) }
            if offset > limit - Int64(value.count) { return call.reply.error(Errors.tooBig) }
            var bytes = [UInt8](repeating: 0, count: Int(offset) + value.count)
            bytes.withUnsafeMutableBytes { ($0.baseAddress! + Int(offset)).copyMemory(from: value.baseAddress!, byteCount: value.count) }
            db.add(call.args[1], .string(bytes))
            call.logAsIs()
            return call.reply.integer(bytes.count)
        }
        guard case var .string(bytes) = entry.value else { return call.wrongType() }
        if value.isEmpty { return call.reply.integer(bytes.count) }
        if offset > limit - Int64(value.count) { return call.reply.error(Errors.tooBig) }
        entry.value = .string([])
        let end = Int(offset) + value.count
        if bytes.count < end { bytes.append(contentsOf: repeatElement(0, count: end - bytes.count)) }
        bytes.withUnsafeMutableBytes { ($0.baseAddress! + Int(offset)).copyMemory(from: value.baseAddress!, byteCount: value.count) }
        entry.value = .string(bytes)
        call.logAsIs()
        call.reply.integer(bytes.count)
    }
}
