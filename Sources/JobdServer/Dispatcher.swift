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
        guard let spec = resolve(args, client, reply) else { return }
        if !client.authenticated && !spec.flags.contains(.noAuth) {
            return reject(client, spec, reply, Errors.noAuth.description)
        }
        if client.isSubscribed && client.protocolVersion == .resp2 && !spec.allowedWhileSubscribed {
            return reject(client, spec, reply,
                          "ERR Can't execute '\(spec.fullName)': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
        }
        if loading && !spec.flags.contains(.loading) {
            return reject(client, spec, reply, "LOADING Redis is loading the dataset in memory")
        }
        if let aof, aof.isFailing, spec.flags.contains(.write) {
            return reject(client, spec, reply, "MISCONF Errors writing to the AOF file: \(aof.lastWriteError?.description ?? "short write")")
        }
        // Commands that may grow memory, and anything queued in MULTI (queuing takes memory too), as Redis.
        if config.maxMemory > 0
            && (spec.flags.contains(.denyOOM) || (client.transaction != nil && spec.queuesUnderOOMCheck))
            && !makeRoomForWrite() {
            if spec.docs.group == "list" { stats.rejectedEnqueuesOOM += 1 }
            return reject(client, spec, reply, "OOM command not allowed when used memory > 'maxmemory'.")
        }
        if client.transaction != nil && !spec.controlsTransaction {
            return queueInTransaction(client, spec, args, reply)
        }
        stats.commandsProcessed += 1
        client.lastCommand = spec.fullName
        // Relative to the read index: growing the buffer may compact it.
        let replyStart = reply.out.readableCount
        let logged = aof?.batch.payloadSize ?? 0
        run(spec, args, client, reply)
        if let aof, aof.batch.payloadSize != logged, repliesWaitForLog, !spec.flags.contains(.replyBeforeSync) {
            holdReplyForDurability(client, replyStart: client.bytesSent + Int64(replyStart))
        }
        if blocking.hasReadyKeys { serveReadyKeys() }
    }

    /// Refuses a command before it runs. Inside MULTI the transaction fails
    /// too, and a refused EXEC ends it with EXECABORT naming the reason (Redis' rejectCommand).
    private func reject(_ client: Client, _ spec: CommandSpec?, _ reply: ReplyWriter, _ message: String) {
        stats.totalErrorReplies += 1
        spec?.stats.rejectedCalls += 1
        if spec?.name == "exec" {
            // Even outside MULTI, as Redis 7.0 does.
            client.transaction = nil
            unwatchAll(client)
            let reason = message.hasPrefix("ERR ") ? String(message.dropFirst(4)) : message
            return reply.error("EXECABORT Transaction discarded because of: \(reason)")
        }
        if client.transaction != nil { refuseTransaction(client) }
        reply.error(message)
    }

    /// Refuses an unknown command or subcommand. The error quotes the
    /// client's bytes unchanged, as Redis does, so it is built from bytes:
    /// a Swift String would replace invalid UTF-8 with U+FFFD.
    private func rejectUnknown(_ client: Client, _ reply: ReplyWriter, _ message: [UInt8]) {
        stats.totalErrorReplies += 1
        if client.transaction != nil { refuseTransaction(client) }
        reply.error(bytes: message)
    }

    /// Runs a command that passed every check (directly, or queued inside EXEC).
    @inline(__always)
    func run(_ spec: CommandSpec, _ args: Arguments, _ client: Client, _ reply: ReplyWriter) {
        let replyStart = reply.out.readableCount
        if let rewrite, spec.flags.contains(.write) { preserveForRewrite(rewrite, spec, args, client) }
        let changes = dirty
        let started = Clock.ticks()
        spec.handler(Call(server: self, client: client, spec: spec, args: args, reply: reply))
        let ticks = Clock.ticks() &- started
        if dirty != changes && !watchers.isEmpty { touchKeys(of: spec, args, database: client.databaseIndex) }
        // An error reply starts with '-' (INFO's total_error_replies counts them all, as Redis).
        let failed = reply.out.readableCount > replyStart
            && reply.out.readPointer.load(fromByteOffset: replyStart, as: UInt8.self) == UInt8(ascii: "-")
        if failed { stats.totalErrorReplies += 1 }
        recordCommand(spec, args, client, ticks: ticks, failed: failed)
    }

    /// The command (or subcommand) named by the arguments, or nil after
    /// refusing it with Redis' unknown-command or arity error.
    @inline(__always)
    private func resolve(_ args: Arguments, _ client: Client, _ reply: ReplyWriter) -> CommandSpec? {
        guard var spec = commands.lookupForClient(args[0]) else {
            rejectUnknown(client, reply, Array("ERR unknown command '".utf8) + Server.shownBytes(args[0], limit: 128)
                          + Array("', with args beginning with: ".utf8) + Server.argumentPreview(args))
            return nil
        }
        if spec.isContainer && args.count >= 2 {
            guard let sub = spec.subcommand(args[1]) else {
                rejectUnknown(client, reply, Array("ERR unknown subcommand '".utf8) + Server.shownBytes(args[1], limit: 128)
                              + Array("'. Try \(spec.name.uppercased()) HELP.".utf8))
                return nil
            }
            spec = sub
        }
        guard spec.acceptsArgumentCount(args.count) else {
            reject(client, spec, reply, "ERR wrong number of arguments for '\(spec.fullName)' command")
            return nil
        }
        return spec
    }

    /// The bytes of an argument as Redis prints it with "%.*s": cut at a NUL byte and at `limit` bytes.
    static func shownBytes(_ bytes: UnsafeRawBufferPointer, limit: Int) -> [UInt8] {
        var end = 0
        while end < bytes.count && end < limit && bytes[end] != 0 { end += 1 }
        return Array(bytes[0..<end])
    }

    /// Text of an argument as Redis prints it with "%.*s" (invalid UTF-8 is repaired;
    /// `shownBytes` keeps the bytes).
    static func shown(_ bytes: UnsafeRawBufferPointer, limit: Int) -> String {
        String(decoding: shownBytes(bytes, limit: limit), as: UTF8.self)
    }

    /// "'a' 'b' " — the start of the arguments, up to about 128 bytes, as in Redis.
    static func argumentPreview(_ args: Arguments) -> [UInt8] {
        var preview: [UInt8] = []
        var i = 1
        while i < args.count && preview.count < 128 {
            let room = 128 - preview.count
            preview.append(UInt8(ascii: "'"))
            preview += shownBytes(args[i], limit: room)
            preview += [UInt8(ascii: "'"), UInt8(ascii: " ")]
            i += 1
        }
        return preview
    }
}
