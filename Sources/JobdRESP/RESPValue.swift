/// A decoded RESP2/RESP3 reply: used by tests, the CLI and tools that talk
/// to a server. The server itself never builds these on its hot path.
public indirect enum RESPValue: Equatable, CustomStringConvertible, Sendable {
    case simple(String)
    case error(String)
    case integer(Int64)
    case bulk([UInt8])
    case null
    case array([RESPValue])
    case map([(RESPValue, RESPValue)])
    case set([RESPValue])
    case double(String)
    case boolean(Bool)
    case verbatim(format: String, text: [UInt8])
    case bigNumber(String)
    case push([RESPValue])

    public static func == (a: RESPValue, b: RESPValue) -> Bool {
        switch (a, b) {
        case let (.simple(x), .simple(y)): x == y
        case let (.error(x), .error(y)): x == y
        case let (.integer(x), .integer(y)): x == y
        case let (.bulk(x), .bulk(y)): x == y
        case (.null, .null): true
        case let (.array(x), .array(y)): x == y
        case let (.map(x), .map(y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        case let (.set(x), .set(y)): x == y
        case let (.double(x), .double(y)): x == y
        case let (.boolean(x), .boolean(y)): x == y
        case let (.verbatim(f1, t1), .verbatim(f2, t2)): f1 == f2 && t1 == t2
        case let (.bigNumber(x), .bigNumber(y)): x == y
        case let (.push(x), .push(y)): x == y
        default: false
        }
    }

    /// The value as text when it is a string-like reply.
    public var text: String? {
        switch self {
        case let .simple(s), let .error(s), let .double(s), let .bigNumber(s): s
        case let .bulk(b), let .verbatim(_, b): String(decoding: b, as: UTF8.self)
        case let .integer(i): String(i)
        default: nil
        }
    }

    public var description: String {
        switch self {
        case let .simple(s): "+\(s)"
        case let .error(s): "-\(s)"
        case let .integer(i): ":\(i)"
        case let .bulk(b): "\"\(String(decoding: b, as: UTF8.self))\""
        case .null: "(nil)"
        case let .array(items): "[" + items.map(\.description).joined(separator: ", ") + "]"
        case let .map(pairs): "{" + pairs.map { "\($0.0): \($0.1)" }.joined(separator: ", ") + "}"
        case let .set(items): "~[" + items.map(\.description).joined(separator: ", ") + "]"
        case let .double(s): ",\(s)"
        case let .boolean(b): b ? "#t" : "#f"
        case let .verbatim(f, t): "=\(f):\(String(decoding: t, as: UTF8.self))"
        case let .bigNumber(s): "(\(s))"
        case let .push(items): ">[" + items.map(\.description).joined(separator: ", ") + "]"
        }
    }
}

/// Incremental decoder of replies (the client side of the protocol).
public struct ReplyParser {
    public init() {}

    /// Decodes one reply from the front of `bytes`; returns it and the bytes
    /// it used, or nil when the reply is not complete yet. Throws on malformed input.
    public func parse(_ bytes: UnsafeRawBufferPointer) throws -> (RESPValue, Int)? {
        var index = 0
        guard let value = try parseValue(bytes, &index) else { return nil }
        return (value, index)
    }

    public struct Malformed: Error, CustomStringConvertible {
        public let description: String
    }

    private func line(_ bytes: UnsafeRawBufferPointer, _ index: inout Int) -> String? {
        var i = index
        while i + 1 < bytes.count {
            if bytes[i] == 13 && bytes[i + 1] == 10 {
                let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[index..<i]), as: UTF8.self)
                index = i + 2
                return text
            }
            i += 1
        }
        return nil
    }

    private func parseValue(_ bytes: UnsafeRawBufferPointer, _ index: inout Int) throws -> RESPValue? {
        guard index < bytes.count else { return nil }
        let marker = bytes[index]
        var i = index + 1
        guard let header = line(bytes, &i) else { return nil }
        func count() throws -> Int {
            guard let n = Int(header) else { throw Malformed(description: "bad length \(header)") }
            return n
        }
        func items(_ n: Int) throws -> [RESPValue]? {
            var result: [RESPValue] = []
            for _ in 0..<max(0, n) {
                guard let item = try parseValue(bytes, &i) else { return nil }
                result.append(item)
            }
            return result
        }
        var value: RESPValue
        switch marker {
        case UInt8(ascii: "+"): value = .simple(header)
        case UInt8(ascii: "-"): value = .error(header)
        case UInt8(ascii: ":"):
            guard let n = Int64(header) else { throw Malformed(description: "bad integer \(header)") }
            value = .integer(n)
        case UInt8(ascii: "$"), UInt8(ascii: "="), UInt8(ascii: "!"):
            let n = try count()
            if n < 0 { value = .null; break }
            guard i + n + 2 <= bytes.count else { return nil }
            let body = Array(UnsafeRawBufferPointer(rebasing: bytes[i..<(i + n)]))
            i += n + 2
            if marker == UInt8(ascii: "=") {
                value = .verbatim(format: String(decoding: body.prefix(3), as: UTF8.self), text: Array(body.dropFirst(4)))
            } else if marker == UInt8(ascii: "!") {
                value = .error(String(decoding: body, as: UTF8.self))
            } else {
                value = .bulk(body)
            }
        case UInt8(ascii: "*"):
            let n = try count()
            if n < 0 { value = .null; break }
            guard let list = try items(n) else { return nil }
            value = .array(list)
        case UInt8(ascii: "~"):
            guard let list = try items(try count()) else { return nil }
            value = .set(list)
        case UInt8(ascii: ">"):
            guard let list = try items(try count()) else { return nil }
            value = .push(list)
        case UInt8(ascii: "%"):
            guard let list = try items(try count() * 2) else { return nil }
            value = .map(stride(from: 0, to: list.count, by: 2).map { (list[$0], list[$0 + 1]) })
        case UInt8(ascii: "_"): value = .null
        case UInt8(ascii: ","): value = .double(header)
        case UInt8(ascii: "#"): value = .boolean(header == "t")
        case UInt8(ascii: "("): value = .bigNumber(header)
        default:
            throw Malformed(description: "unknown reply type \(marker)")
        }
        index = i
        return value
    }
}
