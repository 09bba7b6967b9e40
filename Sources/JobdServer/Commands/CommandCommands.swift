import JobdRESP
import JobdStore

/// COMMAND, COMMAND COUNT/LIST/INFO/DOCS/GETKEYS, generated from the table.
enum CommandCommands {
    static func all(_ call: Call) {
        let specs = call.server.commands.commands
        call.reply.arrayHeader(specs.count)
        for spec in specs { writeInfo(spec, call.reply) }
    }

    static func count(_ call: Call) { call.reply.integer(call.server.commands.commands.count) }

    static func list(_ call: Call) {
        let names = call.server.commands.commands.map(\.name)
        call.reply.arrayHeader(names.count)
        for name in names { call.reply.bulk(name) }
    }

    static func info(_ call: Call) {
        if call.count == 2 { return all(call) }
        call.reply.arrayHeader(call.count - 2)
        for i in 2..<call.count {
            if let spec = call.server.commands.lookupIncludingSubcommands(call.args[i]) { writeInfo(spec, call.reply) } else { call.reply.nullArray() }
        }
    }

    static func docs(_ call: Call) {
        var specs: [CommandSpec] = []
        if call.count == 2 {
            specs = call.server.commands.commands
        } else {
            for i in 2..<call.count {
                if let spec = call.server.commands.lookupIncludingSubcommands(call.args[i]) { specs.append(spec) }
            }
        }
        call.reply.mapHeader(specs.count)
        for spec in specs {
            call.reply.bulk(spec.fullName)
            writeDocs(spec, call.reply)
        }
    }

    static func getkeys(_ call: Call) {
        let args = call.args
        guard let spec = call.server.commands.lookup(args[2]) else {
            return call.reply.error("ERR Invalid command specified")
        }
        guard spec.acceptsArgumentCount(call.count - 2) else {
            return call.reply.error("ERR Invalid number of arguments specified for command")
        }
        let positions = keyIndices(spec, argumentCount: call.count - 2, args: args, offset: 2)
        guard !positions.isEmpty else { return call.reply.error("ERR The command has no key arguments") }
        call.reply.arrayHeader(positions.count)
        for p in positions { call.reply.bulk(args[p + 2]) }
    }

    /// Key positions in a call; BLPOP-style commands end with a timeout that is not a key.
    static func keyIndices(_ spec: CommandSpec, argumentCount: Int, args: Arguments, offset: Int) -> [Int] {
        spec.keys.indices(argumentCount: argumentCount)
    }

    static func help(_ call: Call) {
        HelpText.reply(call, command: "COMMAND", lines: [
            "(no subcommand)", "    Return details about all commands.",
            "COUNT", "    Return the total number of commands in this server.",
            "LIST", "    Return a list of all commands in this server.",
            "INFO [<command-name> ...]", "    Return details about multiple commands.",
            "DOCS [<command-name> ...]", "    Return documentation details about multiple commands.",
            "GETKEYS <full-command>", "    Return the keys from a full command.",
        ])
    }

    // MARK: Encoding

    private static func writeInfo(_ spec: CommandSpec, _ reply: ReplyWriter) {
        reply.arrayHeader(10)
        reply.bulk(spec.fullName)
        reply.integer(spec.arity)
        let flags = spec.flags.names
        reply.setHeader(flags.count)
        for flag in flags { reply.simpleString(flag) }
        reply.integer(spec.keys.first)
        reply.integer(spec.keys.last)
        reply.integer(spec.keys.step)
        let categories = aclCategories(spec)
        reply.setHeader(categories.count)
        for category in categories { reply.simpleString(category) }
        reply.emptyArray()  // tips
        writeKeySpecs(spec, reply)
        reply.arrayHeader(spec.subcommands.count)
        for sub in spec.subcommands { writeInfo(sub, reply) }
    }

    private static func writeKeySpecs(_ spec: CommandSpec, _ reply: ReplyWriter) {
        guard spec.keys.first > 0 else { return reply.emptyArray() }
        reply.arrayHeader(1)
        reply.mapHeader(3)
        reply.bulk("flags")
        let access = spec.flags.contains(.write) ? "RW" : "RO"
        reply.setHeader(1)
        reply.simpleString(access)
        reply.bulk("begin_search")
        reply.mapHeader(2)
        reply.bulk("type"); reply.bulk("index")
        reply.bulk("spec"); reply.mapHeader(1); reply.bulk("index"); reply.integer(spec.keys.first)
        reply.bulk("find_keys")
        reply.mapHeader(2)
        reply.bulk("type"); reply.bulk("range")
        reply.bulk("spec")
        reply.mapHeader(3)
        reply.bulk("lastkey"); reply.integer(spec.keys.last < 0 ? spec.keys.last : spec.keys.last - spec.keys.first)
        reply.bulk("keystep"); reply.integer(spec.keys.step)
        reply.bulk("limit"); reply.integer(0)
    }

    static func aclCategories(_ spec: CommandSpec) -> [String] {
        var categories: [String] = []
        if spec.keys.first > 0 { categories.append("@keyspace") }
        if spec.flags.contains(.write) { categories.append("@write") }
        if spec.flags.contains(.readonly) { categories.append("@read") }
        switch spec.docs.group {
        case "string": categories.append("@string")
        case "list": categories.append("@list")
        case "hash": categories.append("@hash")
        case "set": categories.append("@set")
        case "sorted-set": categories.append("@sortedset")
        case "stream": categories.append("@stream")
        case "pubsub": categories.append("@pubsub")
        case "transactions": categories.append("@transaction")
        case "scripting": categories.append("@scripting")
        case "connection": categories.append("@connection")
        default: break
        }
        categories.append(spec.flags.contains(.fast) ? "@fast" : "@slow")
        if spec.flags.contains(.blocking) { categories.append("@blocking") }
        if spec.flags.contains(.admin) { categories += ["@admin", "@dangerous"] }
        return categories
    }

    private static func writeDocs(_ spec: CommandSpec, _ reply: ReplyWriter) {
        let arguments = CommandSyntax.parse(spec.docs.syntax)
        reply.mapHeader(4 + (arguments.isEmpty ? 0 : 1) + (spec.subcommands.isEmpty ? 0 : 1))
        reply.bulk("summary"); reply.bulk(spec.docs.summary)
        reply.bulk("since"); reply.bulk(spec.docs.since)
        reply.bulk("group"); reply.bulk(spec.docs.group)
        reply.bulk("complexity"); reply.bulk(spec.docs.complexity)
        if !arguments.isEmpty {
            reply.bulk("arguments")
            CommandSyntax.write(arguments, to: reply)
        }
        if !spec.subcommands.isEmpty {
            reply.bulk("subcommands")
            reply.mapHeader(spec.subcommands.count)
            for sub in spec.subcommands {
                reply.bulk(sub.fullName)
                writeDocs(sub, reply)
            }
        }
    }
}
