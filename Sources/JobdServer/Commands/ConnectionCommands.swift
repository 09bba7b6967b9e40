import JobdRESP
import JobdStore
import JobdSystem

/// PING, ECHO, HELLO, AUTH, SELECT, QUIT, RESET.
enum ConnectionCommands {
    static func ping(_ call: Call) {
        if call.count > 2 { return call.wrongArity() }
        if call.client.isSubscribed && !call.reply.isRESP3 {
            // In RESP2's subscribed mode a PING answers in the shape of a message.
            call.reply.arrayHeader(2)
            call.reply.bulk("pong")
            return call.count == 2 ? call.reply.bulk(call.args[1]) : call.reply.bulk("")
        }
        if call.count == 2 { call.reply.bulk(call.args[1]) } else { call.reply.simpleString("PONG") }
    }

    static func echo(_ call: Call) { call.reply.bulk(call.args[1]) }

    static func quit(_ call: Call) {
        call.reply.ok()
        call.client.closeAfterReply = true
    }

    static func select(_ call: Call) {
        guard let index = call.int32(1) else { return }
        guard index >= 0 && index < Int64(call.server.keyspace.databases.count) else {
            return call.reply.error("ERR DB index is out of range")
        }
        call.client.databaseIndex = Int(index)
        call.reply.ok()
    }

    static func auth(_ call: Call) {
        if call.count > 3 { return call.syntaxError() }
        let password = call.server.config.requirePass
        if call.count == 2 && password.isEmpty {
            return call.reply.error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
        }
        let user = call.count == 3 ? call.args[1] : nil
        if authenticate(call, user: user, password: call.args[call.count - 1]) {
            call.reply.ok()
        } else {
            call.reply.error(Errors.wrongPass)
        }
    }

    /// Checks credentials for the only user, "default"; updates the client's state.
    static func authenticate(_ call: Call, user: UnsafeRawBufferPointer?, password: UnsafeRawBufferPointer) -> Bool {
        if let user, !user.elementsEqual("default".utf8) {
            call.server.stats.authFailures += 1
            return false
        }
        let required = call.server.config.requirePass
        if required.isEmpty || constantTimeEqual(Array(required.utf8), password) {
            call.client.authenticated = true
            return true
        }
        call.server.stats.authFailures += 1
        return false
    }

    /// Compares without an early exit, so timing does not reveal a password prefix.
    static func constantTimeEqual(_ expected: [UInt8], _ given: UnsafeRawBufferPointer) -> Bool {
        var difference = UInt8(truncatingIfNeeded: expected.count ^ given.count)
        for i in 0..<given.count {
            difference |= given[i] ^ (expected.isEmpty ? 0 : expected[i % expected.count])
        }
        return difference == 0 && expected.count == given.count
    }

    static func hello(_ call: Call) {
        var version: Int64 = 0
        var next = 1
        if call.count >= 2 {
            guard let v = call.integer(1, orReply: "ERR Protocol version is not an integer or out of range") else { return }
            guard v == 2 || v == 3 else { return call.reply.error("NOPROTO unsupported protocol version") }
            version = v
            next = 2
        }
        var credentials: (Int, Int)?
        var clientName: Int?
        var j = next
        while j < call.count {
            let more = call.count - 1 - j
            if call.args.matches(j, "AUTH") && more >= 2 {
                credentials = (j + 1, j + 2)
                j += 2
            } else if call.args.matches(j, "SETNAME") && more >= 1 {
                clientName = j + 1
                j += 1
            } else {
                return call.reply.error("ERR Syntax error in HELLO option '\(Server.shown(call.args[j], limit: Int.max))'")
            }
            j += 1
        }
        if let (user, password) = credentials {
            guard authenticate(call, user: call.args[user], password: call.args[password]) else {
                return call.reply.error(Errors.wrongPass)
            }
        }
        guard call.client.authenticated else {
            // Redis 7.0's wording (later versions write "HELLO <proto> AUTH").
            return call.reply.error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
        }
        if let clientName {
            guard ClientCommands.setName(call, call.args[clientName]) else { return }
        }
        if version != 0 { call.client.protocolVersion = version == 3 ? .resp3 : .resp2 }
        // The reply uses the protocol just chosen.
        let reply = ReplyWriter(out: call.reply.out, version: call.client.protocolVersion)
        reply.mapHeader(7)
        reply.bulk("server"); reply.bulk("redis")
        reply.bulk("version"); reply.bulk(ServerInfo.redisVersion)
        reply.bulk("proto"); reply.integer(call.client.protocolVersion.rawValue)
        reply.bulk("id"); reply.integer(call.client.id)
        reply.bulk("mode"); reply.bulk("standalone")
        reply.bulk("role"); reply.bulk("master")
        reply.bulk("modules"); reply.emptyArray()
    }

    static func reset(_ call: Call) {
        let client = call.client
        client.databaseIndex = 0
        client.protocolVersion = .resp2
        client.name = ""
        client.authenticated = call.server.config.requirePass.isEmpty
        client.transaction = nil
        call.server.unwatchAll(client)
        call.server.unsubscribeAll(client)
        call.server.monitors.removeAll { $0 === client }
        ReplyWriter(out: call.reply.out, version: .resp2).simpleString("RESET")
    }
}
