import JobdRESP
import JobdStore
import JobdSystem

/// One command being executed: the server, the calling client, its
/// arguments (a view into the input buffer) and where the reply goes.
struct Call {
    unowned(unsafe) let server: Server
    unowned(unsafe) let client: Client
    unowned(unsafe) let spec: CommandSpec  // the command table outlives every call
    let args: Arguments
    let reply: ReplyWriter

    @inline(__always) var count: Int { args.count }
    @inline(__always) var db: Database { server.keyspace[client.databaseIndex] }
    @inline(__always) var now: Int64 { server.keyspace.now }

    // MARK: Argument parsing with Redis' errors

    /// Argument `index` as an Int64, or replies with `message` (default:
    /// "value is not an integer or out of range") and returns nil.
    @inline(__always)
    func integer(_ index: Int, orReply message: StaticString = "ERR value is not an integer or out of range") -> Int64? {
        if let value = Numbers.parseInt64(args[index]) { return value }
        reply.error(message)
        return nil
    }

    /// Argument `index` as an integer within `range`, replying `message` for
    /// anything else (as Redis' getRangeLongFromObjectOrReply with a message).
    func integer(_ index: Int, in range: ClosedRange<Int64>, orReply message: StaticString) -> Int64? {
        guard let value = Numbers.parseInt64(args[index]), range.contains(value) else {
            reply.error(message)
            return nil
        }
        return value
    }

    /// Argument `index` as a 32-bit integer (Redis' getIntFromObjectOrReply).
    func int32(_ index: Int) -> Int64? {
        guard let value = integer(index) else { return nil }
        guard value >= Int64(Int32.min) && value <= Int64(Int32.max) else {
            reply.error("ERR value is out of range, value must between -2147483648 and 2147483647")
            return nil
        }
        return value
    }

    /// A blocking timeout in seconds (float), as an absolute deadline in ms (0 = forever).
    func blockingDeadline(_ index: Int) -> Int64? {
        switch Numbers.parseTimeoutSeconds(args[index]) {
        case .notFloat, .outOfRange:
            reply.error("ERR timeout is not a float or out of range")
            return nil
        case let .millis(ms):
            if ms < 0 {
                reply.error("ERR timeout is negative")
                return nil
            }
            if ms == 0 { return 0 }
            if ms > Int64.max - now {
                reply.error("ERR timeout is out of range")
                return nil
            }
            return now + ms
        }
    }

    func syntaxError() { reply.error("ERR syntax error") }
    func wrongType() { reply.error(Errors.wrongType) }
    /// Redis' addReplySubcommandSyntaxError.
    func subcommandSyntaxError() {
        reply.error("ERR unknown subcommand or wrong number of arguments for '\(Server.shown(args[1], limit: 128))'. Try \(spec.fullName.split(separator: "|")[0].uppercased()) HELP.")
    }
    func wrongArity() { reply.error("ERR wrong number of arguments for '\(spec.fullName)' command") }
}

/// Shared error texts (Redis' shared.* error objects).
enum Errors {
    static let wrongType: StaticString = "WRONGTYPE Operation against a key holding the wrong kind of value"
    static let notInteger: StaticString = "ERR value is not an integer or out of range"
    static let notFloat: StaticString = "ERR value is not a valid float"
    static let syntax: StaticString = "ERR syntax error"
    static let noSuchKey: StaticString = "ERR no such key"
    static let outOfRange: StaticString = "ERR index out of range"
    static let overflow: StaticString = "ERR increment or decrement would overflow"
    static let mustBePositive: StaticString = "ERR value is out of range, must be positive"
    static let tooBig: StaticString = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    static let noAuth: StaticString = "NOAUTH Authentication required."
    static let wrongPass: StaticString = "WRONGPASS invalid username-password pair or user is disabled."
}

