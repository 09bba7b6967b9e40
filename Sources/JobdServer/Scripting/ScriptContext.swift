import JobdRESP
import JobdStore
import JobdSystem

/// An error reply from a command a script ran (Lua's redis.call raises it).
struct ScriptFailure: Error {
    let message: String
}

/// What a native script sees: `redis.call` as in Lua. Commands run exactly
/// as a client's would (log, WATCH, rewrite and statistics included) in the
/// caller's database, with RESP2 replies decoded into values; blocking
/// commands answer at once. Everything a script does lands in the same log
/// batch, so a crash never keeps half of it.
final class ScriptContext {
    let server: Server
    let client: Client
    let keys: [[UInt8]]
    let argv: [[UInt8]]
    private let scratch = ByteBuffer(capacity: 512)

    init(server: Server, client: Client, keys: [[UInt8]], argv: [[UInt8]]) {
        self.server = server
        self.client = client
        self.keys = keys
        self.argv = argv
    }

    /// redis.call: the reply, or a thrown ScriptFailure for an error reply.
    @discardableResult
    func call(_ words: ScriptWord...) throws(ScriptFailure) -> RESPValue {
        try call(words.map(\.bytes))
    }

    func call(_ args: [[UInt8]]) throws(ScriptFailure) -> RESPValue {
        switch server.runInternally(args, as: client, scratch: scratch, version: .resp2) {
        case let .reply(.error(message)): throw ScriptFailure(message: message)
        case let .reply(reply): return reply
        case .unknownCommand: throw ScriptFailure(message: "ERR Unknown Redis command called from script")
        case .wrongArity: throw ScriptFailure(message: "ERR Wrong number of args calling Redis command from script")
        }
    }

    // MARK: Lua's view of values

    /// A bulk reply as Lua sees it: the string, or nil for Lua's false (a nil reply).
    static func string(_ value: RESPValue) -> [UInt8]? {
        switch value {
        case let .bulk(bytes): return bytes
        case let .simple(text): return Array(text.utf8)
        default: return nil
        }
    }

    static func integer(_ value: RESPValue) -> Int64? {
        if case let .integer(n) = value { return n }
        return nil
    }

    /// Lua's tonumber on a string argument.
    static func number(_ bytes: [UInt8]?) -> Double? {
        guard let bytes else { return nil }
        return bytes.withUnsafeBytes { Numbers.parseRangeDouble($0) }
    }

    /// A Lua number turned into a command argument (integers print without a fraction, as Lua's %.14g).
    static func text(_ number: Double) -> [UInt8] {
        if number == number.rounded(), abs(number) < 1e15 { return Array(String(Int64(number)).utf8) }
        return Numbers.formatDouble(number)
    }

    /// Unix milliseconds from TIME, as the scripts compute them.
    func timeMillis() throws(ScriptFailure) -> Double {
        guard case let .array(parts) = try call("TIME"), parts.count == 2,
              let seconds = ScriptContext.string(parts[0]).flatMap({ Double(String(decoding: $0, as: UTF8.self)) }),
              let micros = ScriptContext.string(parts[1]).flatMap({ Double(String(decoding: $0, as: UTF8.self)) }) else {
            throw ScriptFailure(message: "ERR TIME returned an unexpected reply")
        }
        return seconds * 1000 + (micros / 1000).rounded(.down)
    }
}

/// A command word for ScriptContext.call: text, bytes, or a number.
struct ScriptWord {
    let bytes: [UInt8]
}

extension ScriptWord: ExpressibleByStringLiteral {
    init(stringLiteral value: String) { bytes = Array(value.utf8) }
}

extension ScriptWord {
    static func raw(_ bytes: [UInt8]) -> ScriptWord { ScriptWord(bytes: bytes) }
    static func number(_ value: Double) -> ScriptWord { ScriptWord(bytes: ScriptContext.text(value)) }
}

extension ReplyWriter {
    /// Writes a decoded value back as a reply (a script's result).
    func value(_ value: RESPValue) {
        switch value {
        case let .simple(text): simpleString(text)
        case let .error(text): error(text)
        case let .integer(n): integer(n)
        case let .bulk(bytes): bulk(bytes)
        case .null: nullBulk()
        case let .array(items), let .set(items), let .push(items):
            arrayHeader(items.count)
            items.forEach { self.value($0) }
        case let .map(pairs):
            arrayHeader(pairs.count * 2)
            pairs.forEach { self.value($0.0); self.value($0.1) }
        case let .double(text): bulk(text)
        case let .boolean(flag): integer(flag ? 1 : 0)
        case let .verbatim(_, text): bulk(text)
        case let .bigNumber(text): bulk(text)
        }
    }
}
