/// Turns a command's syntax line ("key [EX seconds|PX milliseconds] [NX|XX]")
/// into the structured "arguments" of COMMAND DOCS, which redis-cli uses
/// for its hints. Words in capitals are tokens; lowercase words are values.
struct CommandSyntax {
    indirect enum Argument {
        case value(name: String, type: String)
        case token(String)
        case block([Argument])
        case oneOf([Argument])
        case optional(Argument)
        case multiple(Argument)
    }

    static func parse(_ syntax: String) -> [Argument] {
        var tokens = tokenize(syntax)[...]
        return parseSequence(&tokens, until: nil)
    }

    private static func tokenize(_ text: String) -> [String] {
        var tokens: [String] = []
        var word = ""
        for ch in text {
            if ch == " " || ch == "[" || ch == "]" || ch == "|" {
                if !word.isEmpty { tokens.append(word); word = "" }
                if ch != " " { tokens.append(String(ch)) }
            } else {
                word.append(ch)
            }
        }
        if !word.isEmpty { tokens.append(word) }
        return tokens
    }

    private static func parseSequence(_ tokens: inout ArraySlice<String>, until end: String?) -> [Argument] {
        var items: [Argument] = []
        while let token = tokens.first, token != end, token != "|" {
            tokens = tokens.dropFirst()
            if token == "[" {
                var alternatives = [parseSequence(&tokens, until: "]")]
                while tokens.first == "|" {
                    tokens = tokens.dropFirst()
                    alternatives.append(parseSequence(&tokens, until: "]"))
                }
                if tokens.first == "]" { tokens = tokens.dropFirst() }
                // "x [x ...]" marks the previous item as repeatable.
                if alternatives.count == 1, let last = alternatives[0].last, case .value("...", _) = last {
                    if let previous = items.popLast() { items.append(.multiple(previous)) }
                    continue
                }
                let inner: Argument = alternatives.count > 1
                    ? .oneOf(alternatives.map { $0.count == 1 ? $0[0] : .block($0) })
                    : (alternatives[0].count == 1 ? alternatives[0][0] : .block(alternatives[0]))
                items.append(.optional(inner))
            } else if token == "..." {
                items.append(.value(name: "...", type: "string"))
            } else if token.uppercased() == token && token.lowercased() != token {
                items.append(.token(token))
            } else {
                items.append(.value(name: token, type: type(of: token)))
            }
        }
        return items
    }

    private static func type(of name: String) -> String {
        switch name {
        case "key", "source", "destination", "newkey": "key"
        case "seconds", "milliseconds", "count", "index", "start", "stop", "end", "offset", "increment", "decrement",
             "numkeys", "cursor", "rank", "len", "unix-time-seconds", "unix-time-milliseconds", "protover",
             "client-id", "dbindex", "index1", "index2", "pivot-index", "number": "integer"
        case "timeout": "double"
        case "pattern": "pattern"
        default: "string"
        }
    }

    /// Writes the arguments in COMMAND DOCS form.
    static func write(_ arguments: [Argument], to reply: ReplyWriterLike) {
        reply.arrayHeader(arguments.count)
        for argument in arguments { write(argument, flags: [], to: reply) }
    }

    private static func write(_ argument: Argument, flags: [String], to reply: ReplyWriterLike) {
        switch argument {
        case let .optional(inner): write(inner, flags: flags + ["optional"], to: reply)
        case let .multiple(inner): write(inner, flags: flags + ["multiple"], to: reply)
        case let .value(name, type):
            writeMap(reply, name: name, type: type, token: nil, flags: flags, children: nil)
        case let .token(token):
            writeMap(reply, name: token.lowercased(), type: "pure-token", token: token, flags: flags, children: nil)
        case let .block(items):
            // A block that starts with a token and has one value is "TOKEN value".
            if items.count == 2, case let .token(token) = items[0], case let .value(name, type) = items[1] {
                writeMap(reply, name: name, type: type, token: token, flags: flags, children: nil)
            } else {
                writeMap(reply, name: "block", type: "block", token: nil, flags: flags, children: items)
            }
        case let .oneOf(items):
            writeMap(reply, name: "condition", type: "oneof", token: nil, flags: flags, children: items)
        }
    }

    private static func writeMap(_ reply: ReplyWriterLike, name: String, type: String, token: String?,
                                 flags: [String], children: [Argument]?) {
        reply.mapHeader(2 + (token == nil ? 0 : 1) + (flags.isEmpty ? 0 : 1) + (children == nil ? 0 : 1))
        reply.bulk("name"); reply.bulk(name)
        reply.bulk("type"); reply.bulk(type)
        if let token { reply.bulk("token"); reply.bulk(token) }
        if !flags.isEmpty {
            reply.bulk("flags")
            reply.arrayHeader(flags.count)
            for flag in flags { reply.simpleString(flag) }
        }
        if let children {
            reply.bulk("arguments")
            reply.arrayHeader(children.count)
            for child in children { write(child, flags: [], to: reply) }
        }
    }
}

/// The parts of ReplyWriter the syntax writer needs (so it can be tested alone).
protocol ReplyWriterLike {
    func arrayHeader(_ count: Int)
    func mapHeader(_ count: Int)
    func bulk(_ text: String)
    func simpleString(_ text: String)
}

import JobdRESP
extension ReplyWriter: ReplyWriterLike {}
