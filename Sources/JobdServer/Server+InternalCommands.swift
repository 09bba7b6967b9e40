import JobdRESP
import JobdSystem

/// What a command jobd runs for itself answered.
enum InternalReply {
    case reply(RESPValue)
    case unknownCommand
    case wrongArity
}

/// Commands jobd runs for itself (native scripts' redis.call, the HTTP
/// API): exactly as a client's would run — logged, counted, WATCH and the
/// log rewrite included — but never blocking, with the reply decoded.
extension Server {
    func runInternally(_ args: [[UInt8]], as client: Client, scratch: ByteBuffer, version: ProtocolVersion) -> InternalReply {
        OwnedArguments(args).withArguments { arguments in
            scratch.clear()
            let writer = ReplyWriter(out: scratch, version: version)
            guard var spec = commands.lookup(arguments[0]) else { return .unknownCommand }
            if spec.isContainer, arguments.count >= 2, let sub = spec.subcommand(arguments[1]) { spec = sub }
            guard spec.acceptsArgumentCount(arguments.count) else { return .wrongArity }
            let wasInTransaction = executingTransaction
            executingTransaction = true  // nothing may block
            run(spec, arguments, client, writer)
            executingTransaction = wasInTransaction
            return .reply((try? ReplyParser().parse(scratch.readableBytes))?.0 ?? .error("ERR unreadable reply"))
        }
    }

    /// Runs a command as jobd's internal client (RESP3, database 0): the
    /// HTTP API and the config file's cron lines. The reply comes back as JSON
    /// (an error reply is an object with an "error" field).
    func command(_ words: ScriptWord...) -> JSONValue { command(words) }

    func command(_ words: [ScriptWord]) -> JSONValue {
        let client = internalClient
        client.databaseIndex = 0
        switch runInternally(words.map(\.bytes), as: client, scratch: internalScratch, version: .resp3) {
        case let .reply(reply): return JSONValue(reply)
        case .unknownCommand, .wrongArity: return .object([("error", .string("ERR internal command failed"))])
        }
    }

    private var internalClient: Client {
        if let client = internalClientStorage { return client }
        let peer = Socket.Peer(host: "jobd-internal", port: 0, isUnix: true, isLoopback: true)
        let client = Client(id: -1, fd: -1, peer: peer, local: peer, now: keyspace.now, authenticated: true, limits: requestLimits)
        client.protocolVersion = .resp3
        client.name = "jobd-internal"
        internalClientStorage = client
        return client
    }
}
