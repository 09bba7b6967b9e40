import JobdRESP
import JobdSystem

/// Celery's chord scripts (celery/backends/redis.py), natively: the same
/// redis.call()s in the same order as the Lua, with Lua's conversions.
enum CeleryChordScripts {
    /// CHORD_PART_RETURN_LUA: records one header result; claims the chord when all are in.
    static func partReturn(_ s: ScriptContext) throws(ScriptFailure) -> RESPValue {
        let (jkey, tkey, skey, dkey, gkey, ckey) = (s.keys[0], s.keys[1], s.keys[2], s.keys[3], s.keys[4], s.keys[5])
        let (tid, value, ordered, score) = (s.argv[0], s.argv[1], s.argv[2], s.argv[3])
        let expires = ScriptContext.number(s.argv[4]), groupExpires = ScriptContext.number(s.argv[5])
        let claimExpires = s.argv[6], claimToken = s.argv[7]
        let isOrdered = ordered == Array("1".utf8)

        if ScriptContext.string(try s.call("GET", .raw(ckey))) == Array("done".utf8) {
            return .array([.integer(-1), .integer(0), .integer(0), .integer(0)])
        }
        let member = tid + Array(":".utf8) + score
        if ScriptContext.integer(try s.call("SISMEMBER", .raw(dkey), .raw(member))) == 0 {
            if isOrdered {
                try s.call("ZADD", .raw(jkey), .raw(score), .raw(value))
            } else {
                try s.call("RPUSH", .raw(jkey), .raw(value))
            }
            try s.call("SADD", .raw(dkey), .raw(member))
        }
        let readyCount = ScriptContext.integer(isOrdered ? try s.call("ZCOUNT", .raw(jkey), "-inf", "+inf")
                                                         : try s.call("LLEN", .raw(jkey))) ?? 0
        guard let expires, let groupExpires else {
            throw ScriptFailure(message: "ERR user_script: attempt to compare number with nil")
        }
        if expires > 0 {
            for key in [jkey, tkey, skey, dkey] { try s.call("EXPIRE", .raw(key), .number(expires)) }
            if groupExpires > 0 { try s.call("EXPIRE", .raw(gkey), .number(groupExpires)) }
        }
        let totalDiff = ScriptContext.string(try s.call("GET", .raw(tkey)))
        let size = ScriptContext.string(try s.call("GET", .raw(skey)))
        var claimed: Int64 = 0
        if let size {
            // Lua: tonumber(size) + tonumber(totaldiff or 0) fails on a value that is not a number.
            guard let sizeNumber = ScriptContext.number(size),
                  let diff = totalDiff == nil ? 0 : ScriptContext.number(totalDiff) else {
                throw ScriptFailure(message: "ERR user_script: attempt to perform arithmetic on a nil value")
            }
            if Double(readyCount) == sizeNumber + diff,
               case .simple = try s.call("SET", .raw(ckey), .raw(claimToken), "NX", "EX", .raw(claimExpires)) {
                claimed = 1
            }
        }
        return .array([.integer(readyCount), totalDiff.map { .bulk($0) } ?? .null, size.map { .bulk($0) } ?? .null,
                       .integer(claimed)])
    }

    /// CHORD_CLEANUP_LUA: removes the chord's data if the claim is ours, and marks it done.
    static func cleanup(_ s: ScriptContext) throws(ScriptFailure) -> RESPValue {
        let ckey = s.keys[0]
        guard ScriptContext.string(try s.call("GET", .raw(ckey))) == s.argv[0] else { return .integer(0) }
        try s.call("DEL", .raw(s.keys[1]), .raw(s.keys[2]), .raw(s.keys[3]), .raw(s.keys[4]))
        if let doneExpires = ScriptContext.number(s.argv[1]), doneExpires > 0 {
            try s.call("SET", .raw(ckey), "done", "EX", .number(doneExpires))
        }
        return .integer(1)
    }

    /// CHORD_CLAIM_EXTEND_LUA: extends our claim, or takes an expired one while the chord's data remains.
    static func claimExtend(_ s: ScriptContext) throws(ScriptFailure) -> RESPValue {
        let (ckey, skey) = (s.keys[0], s.keys[1])
        let token = s.argv[0]
        guard let expires = ScriptContext.number(s.argv[1]) else {
            throw ScriptFailure(message: "ERR value is not an integer or out of range")
        }
        if ScriptContext.string(try s.call("GET", .raw(ckey))) == token {
            return try s.call("EXPIRE", .raw(ckey), .number(expires))
        }
        if ScriptContext.string(try s.call("GET", .raw(ckey))) == nil,
           ScriptContext.integer(try s.call("EXISTS", .raw(skey))) == 1 {
            if case .simple = try s.call("SET", .raw(ckey), .raw(token), "EX", .number(expires), "NX") { return .integer(1) }
            return .integer(0)
        }
        return .integer(0)
    }
}
