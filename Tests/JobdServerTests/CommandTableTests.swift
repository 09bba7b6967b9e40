import Testing
import JobdRESP
@testable import JobdServer

@Suite struct CommandTableTests {
    let table = CommandTable(CommandRegistry.all)

    @Test func everyCommandIsFoundCaseInsensitively() {
        #expect(table.commands.count == CommandRegistry.all.count)
        for spec in CommandRegistry.all {
            #expect(table.lookup(spec.name)?.name == spec.name)
            #expect(table.lookup(spec.name.uppercased())?.name == spec.name)
            // Alternating case, and through the byte API the dispatcher uses.
            let mixed = String(spec.name.enumerated().map { $0.offset % 2 == 0 ? Character($0.element.uppercased()) : $0.element })
            #expect(Array(mixed.utf8).withUnsafeBytes { table.lookup($0) }?.name == spec.name, "\(mixed)")
        }
    }

    @Test func unknownNamesAreNotFound() {
        for name in ["nosuchcommand", "", "ge", "gett", "get ", "g\u{0}t", "[et", "GET\r\n", String(repeating: "x", count: 100)] {
            #expect(table.lookup(name) == nil, "\(name.debugDescription)")
        }
        // Subcommands are not top-level commands.
        #expect(table.lookup("getname") == nil)
        #expect(table.lookup("config|get") == nil)
    }

    @Test func commandNamesAreUniqueAndLowercase() {
        let names = CommandRegistry.all.map(\.name)
        #expect(Set(names).count == names.count)
        for name in names { #expect(name == name.lowercased() && !name.isEmpty && !name.contains(" "), "\(name)") }
    }

    @Test func everyCommandIsDocumentedAndWellFormed() {
        let groups: Set = ["connection", "server", "generic", "string", "list", "hash", "set", "sorted-set", "stream",
                           "pubsub", "transactions", "scripting", "jobs"]
        for spec in table.commands {
            #expect(spec.arity != 0, "\(spec.name)")
            #expect(!spec.docs.summary.isEmpty, "\(spec.name) has no summary")
            #expect(groups.contains(spec.docs.group), "\(spec.name) is in group \(spec.docs.group)")
            #expect(!spec.docs.complexity.isEmpty, "\(spec.name)")
            #expect(spec.docs.since.split(separator: ".").count == 3, "\(spec.name)")
            #expect(!(spec.flags.contains(.write) && spec.flags.contains(.readonly)), "\(spec.name) is both write and readonly")
            if spec.keys.first > 0 {
                #expect(spec.flags.contains(.write) || spec.flags.contains(.readonly) || spec.name == "watch",
                        "\(spec.name) has keys but no access flag")
                #expect(spec.keys.step > 0, "\(spec.name)")
                #expect(spec.arity < 0 || spec.keys.first < spec.arity, "\(spec.name)'s first key is past its arity")
            }
            #expect(spec.nameBytes == Array(spec.name.utf8))
        }
    }

    @Test func containersHaveNamedDocumentedSubcommands() {
        let containers = table.commands.filter(\.isContainer)
        #expect(Set(containers.map(\.name)).isSuperset(of: ["client", "config", "command", "debug"]))
        for container in containers {
            #expect(container.arity < 0, "\(container.name) must accept a subcommand")
            let names = container.subcommands.map(\.name)
            #expect(Set(names).count == names.count, "\(container.name) has duplicate subcommands")
            #expect(names.contains("help"), "\(container.name) has no HELP")
            for sub in container.subcommands {
                #expect(!sub.name.isEmpty && sub.name == sub.name.lowercased(), "\(container.name)|\(sub.name)")
                #expect(sub.fullName == "\(container.name)|\(sub.name)")
                #expect(sub.arity != 0 && abs(sub.arity) >= 2, "\(sub.fullName) counts the container and itself")
                #expect(!sub.docs.summary.isEmpty && sub.docs.group == container.docs.group, "\(sub.fullName)")
                #expect(!sub.isContainer)
                let upper = Array(sub.name.uppercased().utf8)
                #expect(upper.withUnsafeBytes { container.subcommand($0) } === sub, "\(sub.fullName)")
            }
            #expect(Array("nosuch".utf8).withUnsafeBytes { container.subcommand($0) } == nil)
        }
    }

    @Test func arityMeansExactlyOrAtLeast() {
        let get = table.lookup("get")!
        #expect(get.arity == 2)
        #expect(!get.acceptsArgumentCount(1) && get.acceptsArgumentCount(2) && !get.acceptsArgumentCount(3))
        let del = table.lookup("del")!
        #expect(del.arity == -2)
        #expect(!del.acceptsArgumentCount(1) && del.acceptsArgumentCount(2) && del.acceptsArgumentCount(100))
        let ping = table.lookup("ping")!
        #expect(ping.acceptsArgumentCount(1) && ping.acceptsArgumentCount(2))
    }

    @Test func keyPositionsFollowTheSpec() {
        #expect(table.lookup("mset")!.keys.indices(argumentCount: 5) == [1, 3])
        #expect(table.lookup("blpop")!.keys.indices(argumentCount: 4) == [1, 2])
        #expect(table.lookup("rename")!.keys.indices(argumentCount: 3) == [1, 2])
        #expect(table.lookup("del")!.keys.indices(argumentCount: 4) == [1, 2, 3])
        #expect(table.lookup("get")!.keys.indices(argumentCount: 2) == [1])
        #expect(table.lookup("ping")!.keys.indices(argumentCount: 1) == [])
        #expect(KeyPositions(first: 1, last: -2, step: 1).indices(argumentCount: 2) == [])
        #expect(KeyPositions.one.indices(argumentCount: 1) == [], "a key position past the arguments is not returned")
    }

    @Test func flagsHaveRedisNames() {
        #expect(CommandFlags([.write, .denyOOM, .fast]).names == ["write", "denyoom", "fast"])
        #expect(CommandFlags([.noAuth, .noMulti, .allowBusy, .noScript]).names == ["noscript", "no_auth", "no_multi", "allow_busy"])
        #expect(CommandFlags([]).names == [])
    }
}

/// The COMMAND DOCS "arguments" for `syntax`, decoded as a client sees them.
private func docs(_ syntax: String) throws -> RESPValue {
    let buffer = ByteBuffer(capacity: 64)
    CommandSyntax.write(CommandSyntax.parse(syntax), to: ReplyWriter(out: buffer, version: .resp3))
    let bytes = buffer.readableArray
    let parsed = try bytes.withUnsafeBytes { try ReplyParser().parse($0) }
    let (value, used) = try #require(parsed)
    #expect(used == bytes.count)
    return value
}

private func argument(_ name: String, _ type: String, token: String? = nil, flags: [String] = [],
                      children: [RESPValue]? = nil) -> RESPValue {
    var pairs: [(RESPValue, RESPValue)] = [(.bulk(Array("name".utf8)), .bulk(Array(name.utf8))),
                                          (.bulk(Array("type".utf8)), .bulk(Array(type.utf8)))]
    if let token { pairs.append((.bulk(Array("token".utf8)), .bulk(Array(token.utf8)))) }
    if !flags.isEmpty { pairs.append((.bulk(Array("flags".utf8)), .array(flags.map { .simple($0) }))) }
    if let children { pairs.append((.bulk(Array("arguments".utf8)), .array(children))) }
    return .map(pairs)
}

private func pureToken(_ token: String, flags: [String] = []) -> RESPValue {
    argument(token.lowercased(), "pure-token", token: token, flags: flags)
}

@Suite struct CommandSyntaxTests {
    @Test func optionalAlternativesAndRepeatsParseIntoStructure() {
        let args = CommandSyntax.parse("key [EX seconds|PX milliseconds] [NX|XX] element [element ...]")
        #expect(args.count == 4)
        guard case let .value(name, type) = args[0] else { Issue.record("key"); return }
        #expect(name == "key" && type == "key")
        guard case let .optional(.oneOf(expiry)) = args[1], expiry.count == 2,
              case let .block(ex) = expiry[0], ex.count == 2, case .token("EX") = ex[0], case .value("seconds", "integer") = ex[1],
              case let .block(px) = expiry[1], px.count == 2, case .token("PX") = px[0], case .value("milliseconds", "integer") = px[1]
        else { Issue.record("EX|PX: \(args[1])"); return }
        guard case let .optional(.oneOf(condition)) = args[2], condition.count == 2,
              case .token("NX") = condition[0], case .token("XX") = condition[1]
        else { Issue.record("NX|XX: \(args[2])"); return }
        guard case .multiple(.value("element", "string")) = args[3] else { Issue.record("element ...: \(args[3])"); return }
    }

    @Test func aRepeatedArgumentIsMarkedMultiple() throws {
        #expect(try docs("key element [element ...]") == .array([
            argument("key", "key"),
            argument("element", "string", flags: ["multiple"]),
        ]))
        #expect(try docs("key [key ...] timeout") == .array([
            argument("key", "key", flags: ["multiple"]),
            argument("timeout", "double"),
        ]))
    }

    @Test func optionalTokensWithAValueBecomeTokenArguments() throws {
        #expect(try docs("cursor [MATCH pattern] [COUNT count]") == .array([
            argument("cursor", "integer"),
            argument("pattern", "pattern", token: "MATCH", flags: ["optional"]),
            argument("count", "integer", token: "COUNT", flags: ["optional"]),
        ]))
        #expect(try docs("[message]") == .array([argument("message", "string", flags: ["optional"])]))
        #expect(try docs("") == .array([]))
    }

    @Test func alternativesBecomeAOneOfCondition() throws {
        #expect(try docs("key [NX|XX]") == .array([
            argument("key", "key"),
            argument("condition", "oneof", flags: ["optional"], children: [pureToken("NX"), pureToken("XX")]),
        ]))
    }

    @Test func nestedOptionalsKeepTheirShape() throws {
        #expect(try docs("[protover [AUTH username password] [SETNAME clientname]]") == .array([
            argument("block", "block", flags: ["optional"], children: [
                argument("protover", "integer"),
                argument("block", "block", flags: ["optional"], children: [
                    pureToken("AUTH"), argument("username", "string"), argument("password", "string"),
                ]),
                argument("clientname", "string", token: "SETNAME", flags: ["optional"]),
            ]),
        ]))
    }

    @Test func alternativesOutsideBracketsKeepEveryArgument() {
        // LINSERT, LMOVE, LMPOP, CLIENT NO-EVICT and CLIENT SETINFO have "A|B" outside brackets.
        let linsert = CommandSyntax.parse("key BEFORE|AFTER pivot element")
        #expect(linsert.count == 4, "\(linsert)")
        if linsert.count == 4, case let .oneOf(where_) = linsert[1] {
            #expect(where_.count == 2)
        } else {
            Issue.record("BEFORE|AFTER is not one argument: \(linsert)")
        }
        #expect(CommandSyntax.parse("source destination LEFT|RIGHT LEFT|RIGHT").count == 4)
        #expect(CommandSyntax.parse("ON|OFF").count == 1)
        if case .oneOf = CommandSyntax.parse("ON|OFF").first {} else { Issue.record("ON|OFF is not a oneof") }
    }

    @Test func aRepeatedGroupRepeatsTheWholeGroup() {
        // MSET's "key value [key value ...]" is one block of key and value, marked multiple.
        let mset = CommandSyntax.parse("key value [key value ...]")
        guard mset.count == 1, case let .multiple(.block(pair)) = mset[0], pair.count == 2 else {
            Issue.record("got \(mset)")
            return
        }
    }

    @Test func everyRegisteredSyntaxParses() {
        for spec in CommandRegistry.all + CommandRegistry.all.flatMap(\.subcommands) where !spec.docs.syntax.isEmpty {
            let parsed = CommandSyntax.parse(spec.docs.syntax)
            #expect(!parsed.isEmpty, "\(spec.fullName)")
            // Every word of the syntax line appears somewhere in the structure.
            let words = spec.docs.syntax.split(whereSeparator: { " []|".contains($0) }).map(String.init).filter { $0 != "..." }
            let seen = Set(names(parsed))
            let lost = words.filter { !seen.contains($0) }
            #expect(lost.isEmpty, "\(spec.fullName): \(lost) missing from \(spec.docs.syntax)")
        }
    }
}

/// Every name and token in a parsed syntax.
private func names(_ arguments: [CommandSyntax.Argument]) -> [String] {
    arguments.flatMap { argument -> [String] in
        switch argument {
        case let .value(name, _): [name]
        case let .token(token): [token]
        case let .block(items), let .oneOf(items): names(items)
        case let .optional(inner), let .multiple(inner): names([inner])
        }
    }
}

