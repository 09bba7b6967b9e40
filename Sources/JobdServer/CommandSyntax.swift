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
        return parseSequence(&tokens, inBrackets: false)
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

    /// Inside brackets `|` separates whole alternatives ("[EX seconds|PX ms]")
    /// and ends the sequence; outside, it joins single words ("BEFORE|AFTER").
    private static func parseSequence(_ tokens: inout ArraySlice<String>, inBrackets: Bool) -> [Argument] {
        var items: [Argument] = []
        while let token = tokens.first, token != "]" {
            if token == "|" {
                if inBrackets { break }
                tokens = tokens.dropFirst()
                guard let previous = items.popLast(), let next = parseItem(&tokens, items: &items) else { continue }
                if case let .oneOf(choices) = previous { items.append(.oneOf(choices + [next])) }
                else { items.append(.oneOf([previous, next])) }
                continue
            }
            if let item = parseItem(&tokens, items: &items) { items.append(item) }
        }
        return items
    }

    /// One word or bracket group; nil when the group only marked earlier items as repeatable.
    private static func parseItem(_ tokens: inout ArraySlice<String>, items: inout [Argument]) -> Argument? {
        guard let token = tokens.first else { return nil }
        tokens = tokens.dropFirst()
        guard token == "[" else { return word(token) }
        var alternatives = [parseSequence(&tokens, inBrackets: true)]
        while tokens.first == "|" {
            tokens = tokens.dropFirst()
            alternatives.append(parseSequence(&tokens, inBrackets: true))
        }
        if tokens.first == "]" { tokens = tokens.dropFirst() }
        // "x y [x y ...]" marks the preceding group as repeatable.
        if alternatives.count == 1, let last = alternatives[0].last, case .value("...", _) = last {
            let repeated = Array(alternatives[0].dropLast())
            let count = max(1, repeated.count)
            guard items.count >= count else { return nil }
            let group = Array(items.suffix(count))
            items.removeLast(count)
            return .multiple(group.count == 1 ? group[0] : .block(group))
        }
        let inner: Argument = alternatives.count > 1
            ? .oneOf(alternatives.map { $0.count == 1 ? $0[0] : .block($0) })
            : (alternatives[0].count == 1 ? alternatives[0][0] : .block(alternatives[0]))
        return .optional(inner)
    }

    private static func word(_ token: String) -> Argument {
        if token == "..." { return .value(name: "...", type: "string") }
        if token.uppercased() == token && token.lowercased() != token { return .token(token) }
        return .value(name: token, type: type(of: token))
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
