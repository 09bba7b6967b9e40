import JobdRESP

/// Reading the replies the client subcommands get: maps (RESP3) or the
/// flat arrays RESP2 turns them into, numbers that may come as text.
extension RESPValue {
    /// A map's entries by name, in order; a flat array read as name, value pairs.
    var fields: [(name: String, value: RESPValue)]? {
        switch self {
        case let .map(pairs):
            return pairs.map { ($0.0.text ?? $0.0.description, $0.1) }
        case let .array(items) where items.count % 2 == 0:
            return stride(from: 0, to: items.count, by: 2).map { (items[$0].text ?? items[$0].description, items[$0 + 1]) }
        default:
            return nil
        }
    }

    var integerValue: Int64? {
        switch self {
        case let .integer(n): n
        case let .boolean(b): b ? 1 : 0
        default: text.flatMap { Int64($0) }
        }
    }

    var doubleValue: Double? {
        if case let .integer(n) = self { return Double(n) }
        return text.flatMap { Double($0) }
    }

    var items: [RESPValue]? {
        switch self {
        case let .array(items), let .set(items), let .push(items): items
        default: nil
        }
    }

    /// A string reply's raw bytes (ids and payloads need not be UTF-8).
    var bytes: [UInt8]? {
        switch self {
        case let .bulk(b), let .verbatim(_, b): b
        case let .simple(s): Array(s.utf8)
        case let .integer(n): Array(String(n).utf8)
        default: nil
        }
    }
}

extension Array where Element == (name: String, value: RESPValue) {
    subscript(field name: String) -> RESPValue? { first { $0.name == name }?.value }
}
