import Testing
@testable import JobdServer

@Suite struct CommandTableTests {
    let table = CommandTable(CommandRegistry.all)

    @Test func everyCommandIsFoundCaseInsensitively() {
        for spec in CommandRegistry.all {
            #expect(table.lookup(spec.name)?.name == spec.name)
            #expect(table.lookup(spec.name.uppercased())?.name == spec.name)
        }
        #expect(table.lookup("nosuchcommand") == nil)
        #expect(table.lookup(String(repeating: "x", count: 100)) == nil)
    }

    @Test func everyCommandIsDocumentedAndWellFormed() {
        let groups: Set = ["connection", "server", "generic", "string", "list"]
        for spec in table.commands {
            #expect(spec.arity != 0, "\(spec.name)")
            #expect(!spec.docs.summary.isEmpty && groups.contains(spec.docs.group), "\(spec.name)")
            #expect(spec.docs.since.split(separator: ".").count == 3, "\(spec.name)")
            #expect(spec.flags.isDisjoint(with: [.write, .readonly]) || spec.flags.contains(.write) != spec.flags.contains(.readonly))
            for sub in spec.subcommands {
                #expect(sub.fullName == "\(spec.name)|\(sub.name)")
                #expect(sub.arity != 0 && !sub.docs.summary.isEmpty)
            }
            if spec.keys.first > 0 { #expect(spec.flags.contains(.write) || spec.flags.contains(.readonly), "\(spec.name)") }
        }
    }

    @Test func keyPositionsFollowTheSpec() {
        #expect(table.lookup("mset")!.keys.indices(argumentCount: 5) == [1, 3])
        #expect(table.lookup("blpop")!.keys.indices(argumentCount: 4) == [1, 2])
        #expect(table.lookup("rename")!.keys.indices(argumentCount: 3) == [1, 2])
        #expect(table.lookup("ping")!.keys.indices(argumentCount: 1) == [])
    }
}

@Suite struct CommandSyntaxTests {
    @Test func optionalTokensAlternativesAndRepeats() {
        let args = CommandSyntax.parse("key [EX seconds|PX milliseconds] [NX|XX] element [element ...]")
        #expect(args.count == 4)
        guard case let .value(name, type) = args[0] else { Issue.record("key"); return }
        #expect(name == "key" && type == "key")
        guard case let .optional(.oneOf(choices)) = args[1] else { Issue.record("expiry"); return }
        #expect(choices.count == 2)
        guard case .optional(.oneOf) = args[2] else { Issue.record("NX|XX"); return }
        guard case let .multiple(.value(element, _)) = args[3] else { Issue.record("element ..."); return }
        #expect(element == "element")
    }

    @Test func everyRegisteredSyntaxParses() {
        for spec in CommandRegistry.all + CommandRegistry.all.flatMap(\.subcommands) where !spec.docs.syntax.isEmpty {
            #expect(!CommandSyntax.parse(spec.docs.syntax).isEmpty, "\(spec.name)")
        }
    }
}
