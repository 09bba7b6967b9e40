import JobdRESP
import JobdStore
import JobdSystem

/// Runs one parsed command: finds it in the table, applies the checks that
/// hold for every command (unknown name, arity, authentication), calls its
/// handler, then serves clients blocked on keys the command made ready.
extension Server {
    @inline(__always)
    func execute(_ client: Client, _ args: Arguments) {
        let reply = writer(for: client)
        guard let spec = resolve(args, reply) else {
            stats.totalErrorReplies += 1
            return
        }
        if !client.authenticated && !spec.flags.contains(.noAuth) {
            reply.error(Errors.noAuth)
            stats.totalErrorReplies += 1
            return
        }
        if loading && !spec.flags.contains(.loading) {
            reply.error("LOADING Redis is loading the dataset in memory")
            stats.totalErrorReplies += 1
            return
        }
        if let aof, aof.isFailing, spec.flags.contains(.write) {
            reply.error("MISCONF Errors writing to the AOF file: \(aof.lastWriteError?.description ?? "short write")")
            stats.totalErrorReplies += 1
            return
        }
        stats.commandsProcessed += 1
        client.lastCommand = spec.fullName
        // Relative to the read index: growing the buffer may compact it.
        let replyStart = reply.out.readableCount
        let logged = aof?.batch.payloadSize ?? 0
        if let rewrite, spec.flags.contains(.write) { preserveForRewrite(rewrite, spec, args, client) }
        spec.handler(Call(server: self, client: client, spec: spec, args: args, reply: reply))
        if let aof, aof.batch.payloadSize != logged, repliesWaitForLog {
            holdReplyForDurability(client, replyStart: client.bytesSent + Int64(replyStart))
        }
        // An error reply starts with '-' (INFO's total_error_replies counts them all, as Redis).
        if reply.out.readableCount > replyStart
            && reply.out.readPointer.load(fromByteOffset: replyStart, as: UInt8.self) == UInt8(ascii: "-") {
            stats.totalErrorReplies += 1
        }
        if blocking.hasReadyKeys { serveReadyKeys() }
    }

    /// The command (or subcommand) named by the arguments, or nil after
    /// replying with Redis' unknown-command or arity error.
    @inline(__always)
    private func resolve(_ args: Arguments, _ reply: ReplyWriter) -> CommandSpec? {
        guard var spec = commands.lookup(args[0]) else {
            reply.error("ERR unknown command '\(Server.shown(args[0], limit: 128))', with args beginning with: \(Server.argumentPreview(args))")
            return nil
        }
        if spec.isContainer && args.count >= 2 {
            guard let sub = spec.subcommand(args[1]) else {
                reply.error("ERR unknown subcommand '\(Server.shown(args[1], limit: 128))'. Try \(spec.name.uppercased()) HELP.")
                return nil
            }
            spec = sub
        }
        guard spec.acceptsArgumentCount(args.count) else {
            reply.error("ERR wrong number of arguments for '\(spec.fullName)' command")
            return nil
        }
        return spec
    }

    /// Text of an argument as Redis prints it with "%.*s": cut at a NUL byte and at `limit` bytes.
    static func shown(_ bytes: UnsafeRawBufferPointer, limit: Int) -> String {
        var end = 0
        while end < bytes.count && end < limit && bytes[end] != 0 { end += 1 }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[0..<end]), as: UTF8.self)
    }

    /// "'a' 'b' " — the start of the arguments, up to about 128 bytes, as in Redis.
    static func argumentPreview(_ args: Arguments) -> String {
        var preview = ""
        var length = 0
        var i = 1
        while i < args.count && length < 128 {
            let part = "'" + shown(args[i], limit: 128 - length) + "' "
            preview += part
            length += part.utf8.count
            i += 1
        }
        return preview
    }
}
