import JobdRESP
import JobdStore
import JobdSystem

/// OBJECT, COPY, WAIT, and the commands jobd answers with a clear error
/// (DUMP, RESTORE: jobd has no RDB serialization).
enum ObjectCommands {
    /// The encoding Redis 7.0 would report for a value of this shape.
    static func encoding(_ value: Value) -> String {
        switch value {
        case let .string(bytes):
            if bytes.count <= 20, Numbers.parseInt64(bytes) != nil { return "int" }
            return bytes.count <= 44 ? "embstr" : "raw"
        case .list: return "quicklist"
        case let .hash(hash): return hash.isSmall() ? "listpack" : "hashtable"
        case let .set(set): return set.isIntegers() ? "intset" : "hashtable"
        case let .zset(zset): return zset.isSmall() ? "listpack" : "skiplist"
        case .stream: return "stream"
        }
    }

    static func objectEncoding(_ call: Call) {
        guard let entry = call.db.peek(call.args[2]) else { return call.reply.nullBulk() }
        call.reply.bulk(encoding(entry.value))
    }

    static func objectIdletime(_ call: Call) {
        guard let entry = call.db.peek(call.args[2]) else { return call.reply.nullBulk() }
        let clock = call.server.keyspace.accessClock
        call.reply.integer(Int(clock &- entry.lastAccess) / 10)
    }

    static func objectFreq(_ call: Call) {
        guard let entry = call.db.peek(call.args[2]) else { return call.reply.nullBulk() }
        if call.server.keyspace.countsFrequency {
            return call.reply.integer(Int(call.server.keyspace.decayedFrequency(entry)))
        }
        call.reply.error("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
    }

    static func objectRefcount(_ call: Call) {
        guard call.db.peek(call.args[2]) != nil else { return call.reply.nullBulk() }
        call.reply.integer(1)
    }

    static func objectHelp(_ call: Call) {
        HelpText.reply(call, command: "OBJECT", lines: [
            "ENCODING <key>", "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>", "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>", "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>", "    Return the number of references of the value associated with the specified",
            "    <key>.",
        ])
    }

    // MARK: COPY

    /// An independent copy of a value (collections are deep-copied).
    static func copy(_ value: Value) -> Value {
        switch value {
        case .string: return value
        case let .list(list):
            let copy = ListValue()
            list.forEach { copy.pushBack($0); return true }
            return .list(copy)
        case let .hash(hash):
            return .hash(HashValue(fields: hash.fields.copy()))
        case let .set(set):
            return .set(SetValue(members: set.members.copy()))
        case let .zset(zset): return .zset(zset.copy())
        case let .stream(stream): return .stream(stream.copy())
        }
    }

    /// COPY source destination [DB destination-db] [REPLACE]
    static func copyCommand(_ call: Call) {
        var target = call.client.databaseIndex
        var replace = false
        var i = 3
        while i < call.count {
            if call.args.matches(i, "REPLACE") {
                replace = true
                i += 1
            } else if call.args.matches(i, "DB") && i + 1 < call.count {
                guard let index = call.integer(i + 1, orReply: "ERR value is not an integer or out of range") else { return }
                guard index >= 0 && index < Int64(call.server.keyspace.databases.count) else {
                    return call.reply.error("ERR DB index is out of range")
                }
                target = Int(index)
                i += 2
            } else {
                return call.syntaxError()
            }
        }
        let source = call.db, destination = call.server.keyspace[target]
        if source === destination && call.args[1].elementsEqual(call.args[2]) {
            return call.reply.error("ERR source and destination objects are the same")
        }
        guard let entry = source.lookup(call.args[1]) else { return call.reply.integer(0) }
        if destination.lookup(call.args[2]) != nil {
            guard replace else { return call.reply.integer(0) }
            if let rewrite = call.server.rewrite { rewrite.preserve(key: call.args[2], in: destination) }
            destination.remove(call.args[2])
        }
        let added = destination.add(call.args[2], copy(entry.value))
        if entry.hasExpiry { destination.setExpiry(added, at: entry.expiresAt) }
        call.logAsIs()
        if target != call.client.databaseIndex {
            call.server.touch(database: target, key: call.args[2])
        }
        call.reply.integer(1)
    }

    /// WAIT numreplicas timeout: jobd has no replicas, so none acknowledged.
    static func wait(_ call: Call) {
        guard call.integer(1) != nil else { return }
        guard let timeout = call.integer(2) else { return }
        if timeout < 0 { return call.reply.error("ERR timeout is negative") }
        call.reply.integer(0)
    }

    static func unsupported(_ call: Call) {
        call.reply.error("ERR \(call.spec.name.uppercased()) is not supported by jobd (no RDB serialization)")
    }
}
