import JobdRESP
import JobdStore
import JobdSystem

/// CLIENT subcommands.
enum ClientCommands {
    static func id(_ call: Call) { call.reply.integer(call.client.id) }

    static func getname(_ call: Call) {
        call.client.name.isEmpty ? call.reply.nullBulk() : call.reply.bulk(call.client.name)
    }

    static func setname(_ call: Call) {
        if setName(call, call.args[2]) { call.reply.ok() }
    }

    /// Validates and sets the connection name (shared with HELLO SETNAME); replies on error.
    static func setName(_ call: Call, _ name: UnsafeRawBufferPointer) -> Bool {
        // Redis allows printable characters other than space.
        for byte in name where byte < 33 || byte > 126 {
            call.reply.error("ERR Client names cannot contain spaces, newlines or special characters.")
            return false
        }
        call.client.name = String(decoding: name, as: UTF8.self)
        return true
    }

    static func setinfo(_ call: Call) {
        let value = call.args[3]
        for byte in value where byte < 33 || byte > 126 {
            return call.reply.error("ERR \(call.args.string(2).uppercased()) cannot contain spaces, newlines or special characters.")
        }
        if call.args.matches(2, "LIB-NAME") {
            call.client.libraryName = String(decoding: value, as: UTF8.self)
        } else if call.args.matches(2, "LIB-VER") {
            call.client.libraryVersion = String(decoding: value, as: UTF8.self)
        } else {
            return call.reply.error("ERR Unrecognized option '\(call.args.string(2))'")
        }
        call.reply.ok()
    }

    static func info(_ call: Call) {
        call.reply.verbatim(call.client.infoLine(now: call.now, database: call.client.databaseIndex) + "\n")
    }

    static func list(_ call: Call) {
        var ids: Set<Int64>?
        var i = 2
        while i < call.count {
            if call.args.matches(i, "TYPE") && i + 1 < call.count {
                let type = call.args.lowercased(i + 1)
                guard ["normal", "master", "replica", "slave", "pubsub"].contains(type) else {
                    return call.reply.error("ERR Unknown client type '\(call.args.string(i + 1))'")
                }
                if type != "normal" { ids = [] }
                i += 2
            } else if call.args.matches(i, "ID") && i + 1 < call.count {
                var chosen = ids ?? []
                i += 1
                while i < call.count {
                    guard let id = Numbers.parseInt64(call.args[i]), id > 0 else {
                        return call.reply.error("ERR Invalid client ID")
                    }
                    chosen.insert(id)
                    i += 1
                }
                ids = chosen
            } else {
                return call.syntaxError()
            }
        }
        var text = ""
        for client in call.server.connectedClients.sorted(by: { $0.id < $1.id }) where ids?.contains(client.id) ?? true {
            text += client.infoLine(now: call.now, database: client.databaseIndex) + "\n"
        }
        call.reply.verbatim(text)
    }

    static func kill(_ call: Call) {
        let server = call.server
        if call.count == 3 {
            // Old form: CLIENT KILL addr:port
            let address = call.args.string(2)
            guard let victim = server.connectedClients.first(where: { $0.peer.text == address }) else {
                return call.reply.error("ERR No such client")
            }
            terminate(victim, by: call)
            return call.reply.ok()
        }
        var id: Int64?, address: String?, localAddress: String?, skipMe = true
        var type: String?
        var i = 2
        while i < call.count {
            guard i + 1 < call.count else { return call.syntaxError() }
            if call.args.matches(i, "ID") {
                guard let value = Numbers.parseInt64(call.args[i + 1]), value > 0 else {
                    return call.reply.error("ERR client-id should be greater than 0")
                }
                id = value
            } else if call.args.matches(i, "ADDR") {
                address = call.args.string(i + 1)
            } else if call.args.matches(i, "LADDR") {
                localAddress = call.args.string(i + 1)
            } else if call.args.matches(i, "TYPE") {
                let value = call.args.lowercased(i + 1)
                guard ["normal", "master", "replica", "slave", "pubsub"].contains(value) else {
                    return call.reply.error("ERR Unknown client type '\(call.args.string(i + 1))'")
                }
                type = value
            } else if call.args.matches(i, "USER") {
                if call.args.string(i + 1) != "default" {
                    return call.reply.error("ERR No such user '\(call.args.string(i + 1))'")
                }
            } else if call.args.matches(i, "SKIPME") {
                if call.args.matches(i + 1, "yes") { skipMe = true } else if call.args.matches(i + 1, "no") { skipMe = false } else {
                    return call.syntaxError()
                }
            } else {
                return call.syntaxError()
            }
            i += 2
        }
        var killed = 0
        for client in server.connectedClients {
            if let id, client.id != id { continue }
            if let address, client.peer.text != address { continue }
            if let localAddress, client.local.text != localAddress { continue }
            if let type, type != "normal" { continue }
            if skipMe && client === call.client { continue }
            terminate(client, by: call)
            killed += 1
        }
        call.reply.integer(killed)
    }

    /// Closes a client after this turn; the caller itself is closed after its reply.
    private static func terminate(_ victim: Client, by call: Call) {
        if victim === call.client {
            victim.closeAfterReply = true
        } else {
            call.server.scheduleClose(victim)
        }
    }

    static func noEvict(_ call: Call) {
        guard call.args.matches(2, "ON") || call.args.matches(2, "OFF") else { return call.syntaxError() }
        call.reply.ok()
    }

    static func unblock(_ call: Call) {
        guard let id = call.integer(2) else { return }
        var asError = false
        if call.count == 4 {
            if call.args.matches(3, "ERROR") { asError = true } else if !call.args.matches(3, "TIMEOUT") {
                return call.reply.error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
            }
        }
        guard let target = call.server.client(withID: id), target.isBlocked else {
            return call.reply.integer(0)
        }
        let reply = call.server.writer(for: target)
        if asError {
            reply.error("UNBLOCKED client unblocked via CLIENT UNBLOCK")
        } else {
            reply.nullArray()
        }
        call.server.finishServing(target)
        call.reply.integer(1)
    }

    static func help(_ call: Call) {
        HelpText.reply(call, command: "CLIENT", lines: [
            "GETNAME", "    Return the name of the current connection.",
            "ID", "    Return the ID of the current connection.",
            "INFO", "    Return information about the current client connection.",
            "KILL <ip:port>", "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are: ID <client-id>, ADDR <ip:port>, LADDR <ip:port>, TYPE normal, USER default, SKIPME (yes|no).",
            "LIST [TYPE normal] [ID <client-id> [...]]", "    Return information about client connections.",
            "NO-EVICT (ON|OFF)", "    Accepted for compatibility.",
            "SETINFO <LIB-NAME|LIB-VER> <value>", "    Set client library name or version.",
            "SETNAME <name>", "    Assign the name <name> to the current connection.",
            "UNBLOCK <clientid> [TIMEOUT|ERROR]", "    Unblock the specified blocked client.",
        ])
    }
}

/// The HELP replies of container commands, in Redis' format.
enum HelpText {
    static func reply(_ call: Call, command: String, lines: [String]) {
        let all = ["\(command) <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"] + lines
            + ["HELP", "    Print this help."]
        call.reply.arrayHeader(all.count)
        for line in all { call.reply.simpleString(line) }
    }
}
