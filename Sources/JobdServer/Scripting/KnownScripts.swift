import JobdRESP
import JobdSystem

/// The Lua scripts that queue libraries send, run natively.
///
/// jobd has no Lua interpreter, but Celery cannot start a worker without a
/// few scripts (redis-py's Lock release, kombu's binding refresh), and RQ's
/// scheduler needs its lock scripts. Each script here is recognised by the
/// SHA-1 of its exact text (what EVALSHA sends, and what EVAL and SCRIPT
/// LOAD of that text hash to) and runs as Swift that makes the same
/// redis.call()s in the same order. Any other script gets NOSCRIPT or a
/// clear error. The texts come from redis-py 8.1, kombu/Celery 5.7 and RQ
/// 2.12 (Tests/Compat pins them); a library that changes a script's text
/// changes its SHA-1 and needs a new entry.
enum KnownScripts {
    typealias Native = @Sendable (ScriptContext) throws(ScriptFailure) -> RESPValue

    struct Script: Sendable {
        let name: String
        /// The fewest keys and arguments the script reads (fewer would be a crash in Swift, a Lua error in Redis).
        let keys: Int
        let argv: Int
        let run: Native
    }

    static let bySHA: [String: Script] = [
        "c3f8721cbb97f72bc19e972846bd7aaf91901658": Script(name: "redis-py Lock release", keys: 1, argv: 1, run: lockRelease),
        "a4e8783852e6b949f9ef3a97212805108459a890": Script(name: "redis-py Lock extend", keys: 1, argv: 3, run: lockExtend),
        "1cac51482acf5858da00f6d685d68f886cd6b6b2": Script(name: "redis-py Lock reacquire", keys: 1, argv: 2, run: lockReacquire),
        "ef7a9e205fbaf46bf959e1522ff796622fc676c7": Script(name: "kombu REFRESH_BINDING", keys: 2, argv: 3, run: kombuRefreshBinding),
        "9a2b966a0a2d2d0e36ec32bc30fc89342b94a4bf": Script(name: "kombu SWEEP_BINDINGS", keys: 1, argv: 3, run: kombuSweepBindings),
        "b8fc152c83a7e634103ccebd49dcd3146a8f4366": Script(name: "Celery CHORD_PART_RETURN", keys: 6, argv: 8, run: CeleryChordScripts.partReturn),
        "59d7aab41242d82196947ba8926cab712416da4f": Script(name: "Celery CHORD_CLEANUP", keys: 5, argv: 2, run: CeleryChordScripts.cleanup),
        "dc87180d6bcb7f73c7275eb0fe7a70baf0a8b7c7": Script(name: "Celery CHORD_CLAIM_EXTEND", keys: 2, argv: 2, run: CeleryChordScripts.claimExtend),
        "4227fa753143e6f652e2e185d254964b3a7413a5": Script(name: "RQ ACQUIRE_OR_REFRESH_LOCK", keys: 1, argv: 2, run: rqAcquireOrRefreshLock),
        "d44df6e1a0e76df1009084a91af26cc23ac035a9": Script(name: "RQ RELEASE_LOCK", keys: 1, argv: 1, run: rqReleaseLock),
        "5cee5213d2ee93f19f93badbfc1c8abbccde5baf": Script(name: "RQ UNIQUE_ENQUEUE", keys: 2, argv: 3, run: rqUniqueEnqueue),
        "10808fbebdc9b5ffafa2b7f5f2ce29a5bc6a1e07": Script(name: "RQ UNIQUE_SCHEDULE", keys: 3, argv: 4, run: rqUniqueSchedule),
        "0f72f97be1eabbfce0148fd466da8c4ad73236fe": Script(name: "RQ Queue.empty", keys: 1, argv: 0, run: rqEmptyQueue),
    ]

    // MARK: redis-py Lock

    /// GET the lock; unless it holds our token, 0. Shared by the lock scripts.
    private static func holdsToken(_ s: ScriptContext) throws(ScriptFailure) -> Bool {
        guard let token = ScriptContext.string(try s.call("GET", .raw(s.keys[0]))) else { return false }
        return token == s.argv[0]
    }

    static func lockRelease(_ s: ScriptContext) throws(ScriptFailure) -> RESPValue {
        guard try holdsToken(s) else { return .integer(0) }
        try s.call("DEL", .raw(s.keys[0]))
        return .integer(1)
    }

    static func lockExtend(_ s: ScriptContext) throws(ScriptFailure) -> RESPValue {
        guard try holdsToken(s) else { return .integer(0) }
        let expiration = ScriptContext.integer(try s.call("PTTL", .raw(s.keys[0]))) ?? 0
        if expiration < 0 { return .integer(0) }
        var newTTL: ScriptWord = .raw(s.argv[1])
        if s.argv[2] == Array("0".utf8) {
            guard let extra = ScriptContext.number(s.argv[1]) else {
                throw ScriptFailure(message: "ERR user_script: attempt to perform arithmetic on a string value")
            }
            newTTL = .number(extra + Double(expiration))
        }
        try s.call("PEXPIRE", .raw(s.keys[0]), newTTL)
        return .integer(1)
    }

    static func lockReacquire(_ s: ScriptContext) throws(ScriptFailure) -> RESPValue {
        guard try holdsToken(s) else { return .integer(0) }
        try s.call("PEXPIRE", .raw(s.keys[0]), .raw(s.argv[1]))
        return .integer(1)
    }

    // MARK: kombu bindings

    static func kombuRefreshBinding(_ s: ScriptContext) throws(ScriptFailure) -> RESPValue {
        try s.call("SADD", .raw(s.keys[0]), .raw(s.argv[0]))
        let ms = try s.timeMillis()
        let ttl = ScriptContext.number(s.argv[2]) ?? 0
        try s.call("ZADD", .raw(s.keys[1]), "GT", .number(ms + ttl), .raw(s.argv[1]))
        return .null
    }

    static func kombuSweepBindings(_ s: ScriptContext) throws(ScriptFailure) -> RESPValue {
        let ms = try s.timeMillis()
        let limit = ScriptContext.number(s.argv[2]) ?? 0
        guard case let .array(overdue) = try s.call("ZRANGEBYSCORE", .raw(s.keys[0]), "-inf", .number(ms),
                                                    "LIMIT", "0", .number(limit)) else { return .integer(0) }
        for item in overdue {
            guard let exchange = ScriptContext.string(item) else { continue }
            if ScriptContext.integer(try s.call("EXISTS", .raw(s.argv[1] + exchange))) == 0 {
                try s.call("DEL", .raw(s.argv[0] + exchange))
            }
            try s.call("ZREM", .raw(s.keys[0]), .raw(exchange))
        }
        return .integer(Int64(overdue.count))
    }

    // MARK: RQ

    static func rqAcquireOrRefreshLock(_ s: ScriptContext) throws(ScriptFailure) -> RESPValue {
        guard let value = ScriptContext.string(try s.call("GET", .raw(s.keys[0]))) else {
            try s.call("SET", .raw(s.keys[0]), .raw(s.argv[0]), "EX", .raw(s.argv[1]))
            return .integer(1)
        }
        if value == s.argv[0] {
            try s.call("EXPIRE", .raw(s.keys[0]), .raw(s.argv[1]))
            return .integer(2)
        }
        return .integer(0)
    }

    static func rqReleaseLock(_ s: ScriptContext) throws(ScriptFailure) -> RESPValue {
        guard try holdsToken(s) else { return .integer(0) }
        return try s.call("DEL", .raw(s.keys[0]))
    }

    /// Shared start of the unique scripts: reject a duplicate, save the hash, set its TTL.
    private static func saveUniqueJob(_ s: ScriptContext, ttlIndex: Int, fieldsFrom: Int) throws(ScriptFailure) -> Bool {
        if ScriptContext.integer(try s.call("EXISTS", .raw(s.keys[0]))) == 1 { return false }
        if s.argv.count > fieldsFrom {
            _ = try s.call([Array("HSET".utf8), s.keys[0]] + s.argv[fieldsFrom...])
        }
        if let ttl = ScriptContext.number(s.argv[ttlIndex]), ttl > 0 {
            try s.call("EXPIRE", .raw(s.keys[0]), .number(ttl))
        }
        return true
    }

    static func rqUniqueEnqueue(_ s: ScriptContext) throws(ScriptFailure) -> RESPValue {
        guard try saveUniqueJob(s, ttlIndex: 2, fieldsFrom: 3) else { return .integer(0) }
        if s.argv[1] == Array("L".utf8) {
            try s.call("LPUSH", .raw(s.keys[1]), .raw(s.argv[0]))
        } else if s.argv[1] == Array("R".utf8) {
            try s.call("RPUSH", .raw(s.keys[1]), .raw(s.argv[0]))
        }
        return .integer(1)
    }

    static func rqUniqueSchedule(_ s: ScriptContext) throws(ScriptFailure) -> RESPValue {
        guard try saveUniqueJob(s, ttlIndex: 1, fieldsFrom: 4) else { return .integer(0) }
        guard let when = ScriptContext.number(s.argv[2]) else {
            throw ScriptFailure(message: "ERR value is not a valid float")
        }
        try s.call("ZADD", .raw(s.keys[1]), .number(when), .raw(s.argv[0]))
        try s.call("SADD", .raw(s.keys[2]), .raw(s.argv[3]))
        return .integer(1)
    }

    /// Queue.empty() with RQ's default job prefix "rq:job:".
    static func rqEmptyQueue(_ s: ScriptContext) throws(ScriptFailure) -> RESPValue {
        let prefix = Array("rq:job:".utf8)
        var count: Int64 = 0
        while let jobID = ScriptContext.string(try s.call("LPOP", .raw(s.keys[0]))) {
            try s.call("DEL", .raw(prefix + jobID))
            try s.call("DEL", .raw(prefix + jobID + Array(":dependents".utf8)))
            count += 1
        }
        return .integer(count)
    }
}
