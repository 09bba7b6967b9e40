import JobdRESP
import JobdSystem

/// Reads redis.conf-style text and `--directive value` flags into a ServerConfig.
public enum ConfigLoader {
    public struct LoadError: Error, CustomStringConvertible {
        public let line: Int
        public let text: String
        public let reason: String
        public let source: String

        public var description: String {
            "*** FATAL CONFIG ERROR (jobd) ***\nReading \(source), at line \(line)\n>>> '\(text)'\n\(reason)"
        }
    }

    /// Applies every directive in `text` to `config`, in order.
    public static func apply(_ text: String, source: String, to config: ServerConfig) throws(LoadError) {
        var lineNumber = 0
        // Split on the newline byte: in Swift "\r\n" is one Character, so splitting
        // Characters on "\n" would miss every line of a file with Windows endings.
        for rawLine in text.utf8.split(separator: 10, omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = Substring(String(decoding: rawLine, as: UTF8.self)).trimmingCharacters(inSpaceSet: true)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let words = splitArguments(line) else {
                throw LoadError(line: lineNumber, text: line, reason: "Unbalanced quotes in configuration line", source: source)
            }
            guard let name = words.first else { continue }
            guard let directive = ConfigDirectives.find(name) else {
                throw LoadError(line: lineNumber, text: line, reason: "Bad directive or wrong number of arguments", source: source)
            }
            do {
                try directive.set(config, Array(words.dropFirst()))
            } catch {
                throw LoadError(line: lineNumber, text: line, reason: error.description, source: source)
            }
        }
    }

    /// Turns `--port 6380 --bind 127.0.0.1 ::1` into config lines (as redis-server does).
    public static func flagsToText(_ flags: [String]) -> String {
        var lines: [String] = []
        var current: [String] = []
        for flag in flags {
            if flag.hasPrefix("--") && flag.count > 2 {
                if !current.isEmpty { lines.append(current.joined(separator: " ")) }
                current = [String(flag.dropFirst(2))]
            } else {
                current.append(quote(flag))
            }
        }
        if !current.isEmpty { lines.append(current.joined(separator: " ")) }
        return lines.joined(separator: "\n")
    }

    /// Quotes a value so that `splitArguments` gives it back unchanged.
    static func quote(_ value: String) -> String {
        if !value.isEmpty && !value.utf8.contains(where: { ASCII.isSpace($0) || $0 == 34 || $0 == 39 || $0 == 92 }) {
            return value
        }
        // Escape byte by byte, decode once: multi-byte UTF-8 characters stay whole.
        var out: [UInt8] = [34]
        for byte in value.utf8 {
            switch byte {
            case 34: out += [92, 34]
            case 92: out += [92, 92]
            case 10: out += [92, UInt8(ascii: "n")]
            case 13: out += [92, UInt8(ascii: "r")]
            case 9: out += [92, UInt8(ascii: "t")]
            default: out.append(byte)
            }
        }
        out.append(34)
        return String(decoding: out, as: UTF8.self)
    }

    /// Splits a line the way redis.conf and inline commands are split (quotes, escapes).
    static func splitArguments(_ line: String) -> [String]? {
        let buffer = ByteBuffer(capacity: line.utf8.count + 2)
        buffer.append(string: line)
        buffer.append("\n")
        let parser = RequestParser()
        switch parser.parse(buffer) {
        case let .command(arguments): return (0..<arguments.count).map { arguments.string($0) }
        case .empty: return []
        default: return nil
        }
    }
}

extension Substring {
    func trimmingCharacters(inSpaceSet _: Bool) -> String {
        var view = self[...]
        while let first = view.first, first.isWhitespace { view = view.dropFirst() }
        while let last = view.last, last.isWhitespace { view = view.dropLast() }
        return String(view)
    }
}
