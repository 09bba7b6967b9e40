import JobdRESP

/// A JSON document built by the HTTP API, encoded compactly. Objects keep
/// their key order so responses read like the RESP maps they come from.
indirect enum JSONValue {
    case null
    case bool(Bool)
    case integer(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    static func int(_ value: Int) -> JSONValue { .integer(Int64(value)) }

    /// Bytes as a JSON string: invalid UTF-8 becomes U+FFFD.
    static func text(_ bytes: [UInt8]) -> JSONValue { .string(String(decoding: bytes, as: UTF8.self)) }

    var encoded: String {
        var out = ""
        encode(into: &out)
        return out
    }

    func encode(into out: inout String) {
        switch self {
        case .null: out += "null"
        case let .bool(value): out += value ? "true" : "false"
        case let .integer(value): out += String(value)
        case let .double(value):
            // JSON has no NaN or infinities.
            out += value.isFinite ? (value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)) : "null"
        case let .string(value): Self.encodeString(value, into: &out)
        case let .array(items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.encode(into: &out)
            }
            out += "]"
        case let .object(fields):
            out += "{"
            for (i, (key, value)) in fields.enumerated() {
                if i > 0 { out += "," }
                Self.encodeString(key, into: &out)
                out += ":"
                value.encode(into: &out)
            }
            out += "}"
        }
    }

    /// Escapes quotes, backslashes and control characters; `<`, `>` and `&`
    /// too, so that a payload can never close a `<script>` it is embedded in.
    static func encodeString(_ text: String, into out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<", ">", "&", "\u{2028}", "\u{2029}":
                out += "\\u" + hex4(scalar.value)
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\u" + hex4(scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }

    private static func hex4(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    subscript(key: String) -> JSONValue? {
        guard case let .object(fields) = self else { return nil }
        return fields.first { $0.0 == key }?.1
    }
}

extension JSONValue {
    /// A RESP reply as JSON: maps become objects (keys as text), bulk
    /// strings text, doubles numbers, nulls null.
    init(_ value: RESPValue) {
        switch value {
        case let .simple(text): self = .string(text)
        case let .error(text): self = .object([("error", .string(text))])
        case let .integer(number): self = .integer(number)
        case let .bulk(bytes): self = .text(bytes)
        case .null: self = .null
        case let .array(items), let .set(items), let .push(items): self = .array(items.map(JSONValue.init))
        case let .map(pairs): self = .object(pairs.map { (Self.keyText($0.0), JSONValue($0.1)) })
        case let .double(text): self = Double(text).map(JSONValue.double) ?? .string(text)
        case let .boolean(flag): self = .bool(flag)
        case let .verbatim(_, text): self = .text(text)
        case let .bigNumber(text): self = .string(text)
        }
    }

    private static func keyText(_ key: RESPValue) -> String {
        switch key {
        case let .bulk(bytes), let .verbatim(_, bytes): String(decoding: bytes, as: UTF8.self)
        default: key.description
        }
    }
}
