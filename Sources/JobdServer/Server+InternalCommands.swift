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
}
