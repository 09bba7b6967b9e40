/// One parsed HTTP/1.x request.
struct HTTPRequest {
    var method: String
    /// The path as sent (still percent-encoded), without the query.
    var path: String
    /// The query string after `?`, still encoded ("" when none).
    var query: String
    /// Header names lowercased, in the order sent.
    var headers: [(name: String, value: String)]
    var body: [UInt8]
    /// HTTP/1.1 (true) or HTTP/1.0.
    var isHTTP11: Bool

    func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }

    /// HTTP/1.1 keeps the connection unless told `close`; 1.0 closes unless told `keep-alive`.
    var keepAlive: Bool {
        let tokens = (header("connection") ?? "").lowercased().split(separator: ",").map { $0.trimmingSpaces }
        return isHTTP11 ? !tokens.contains("close") : tokens.contains("keep-alive")
    }

    /// A query parameter, percent-decoded.
    func queryValue(_ name: String) -> String? {
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if HTTPRequestParser.percentDecoded(parts[0]) == name {
                return parts.count > 1 ? HTTPRequestParser.percentDecoded(parts[1]) : ""
            }
        }
        return nil
    }
}

/// Limits on what a client may send; going over them is answered with the
/// status Apache and nginx use (414, 431, 413) and the connection is closed.
struct HTTPLimits {
    var maxRequestLine = 8 * 1024
    var maxHeaderBytes = 16 * 1024
    var maxHeaderCount = 100
    var maxBody = 1024 * 1024
}

/// A strict HTTP/1.0 and 1.1 request parser (RFC 9112). Anything a lenient
/// parser would have to guess about is refused, so that no proxy in front of
/// jobd can read the same bytes as a different request: bare LF line ends,
/// obsolete line folding, whitespace before a header's colon, control bytes,
/// duplicate or malformed Content-Length, and Transfer-Encoding (not needed
/// by the API, and the classic smuggling vector).
public struct HTTPRequestParser {
    enum Result {
        case incomplete
        case request(HTTPRequest, consumed: Int)
        /// Refuse with this status and close the connection.
        case failure(status: Int, reason: String)
    }

    var limits = HTTPLimits()

    func parse(_ bytes: UnsafeRawBufferPointer) -> Result {
        guard let headEnd = Self.find(crlfcrlf, in: bytes, limit: limits.maxHeaderBytes + 4) else {
            if let lineEnd = Self.find(crlf, in: bytes, limit: limits.maxRequestLine + 2) {
                if bytes.count > limits.maxHeaderBytes { return .failure(status: 431, reason: "headers too large") }
                // Reject a bad request line early instead of waiting for the rest.
                if case let .failure(status, reason) = parseRequestLine(UnsafeRawBufferPointer(rebasing: bytes[0..<lineEnd])) {
                    return .failure(status: status, reason: reason)
                }
                return .incomplete
            }
            if bytes.count > limits.maxRequestLine { return .failure(status: 414, reason: "request line too long") }
            if bytes.contains(where: { $0 == 0x0A }) { return .failure(status: 400, reason: "bare LF") }
            return .incomplete
        }
        let head = UnsafeRawBufferPointer(rebasing: bytes[0..<headEnd])
        var lines = Self.splitLines(head)
        let first = lines.removeFirst()
        let requestLine: (method: String, path: String, query: String, isHTTP11: Bool)
        switch parseRequestLine(first) {
        case let .success(line): requestLine = line
        case let .failure(status, reason): return .failure(status: status, reason: reason)
        }
        if first.count > limits.maxRequestLine { return .failure(status: 414, reason: "request line too long") }
        if lines.count > limits.maxHeaderCount { return .failure(status: 431, reason: "too many headers") }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let header = Self.parseHeader(line) else { return .failure(status: 400, reason: "malformed header") }
            headers.append(header)
        }
        if headers.contains(where: { $0.name == "transfer-encoding" }) {
            return .failure(status: 501, reason: "Transfer-Encoding is not supported")
        }
        if requestLine.isHTTP11 && !headers.contains(where: { $0.name == "host" }) {
            return .failure(status: 400, reason: "missing Host header")
        }
        var bodyLength = 0
        let lengths = headers.filter { $0.name == "content-length" }.map(\.value)
        if let length = lengths.first {
            guard lengths.allSatisfy({ $0 == length }), !length.isEmpty, length.count <= 18,
                  length.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int(length) else {
                return .failure(status: 400, reason: "bad Content-Length")
            }
            bodyLength = value
        }
        if bodyLength > limits.maxBody { return .failure(status: 413, reason: "body too large") }
        let bodyStart = headEnd + 4
        guard bytes.count - bodyStart >= bodyLength else { return .incomplete }
        let request = HTTPRequest(method: requestLine.method, path: requestLine.path, query: requestLine.query,
                                  headers: headers, body: Array(bytes[bodyStart..<bodyStart + bodyLength]),
                                  isHTTP11: requestLine.isHTTP11)
        return .request(request, consumed: bodyStart + bodyLength)
    }

    private enum LineResult {
        case success((method: String, path: String, query: String, isHTTP11: Bool))
        case failure(Int, String)
    }

    /// `METHOD SP origin-form SP HTTP/1.x`, nothing else.
    private func parseRequestLine(_ line: UnsafeRawBufferPointer) -> LineResult {
        let parts = line.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return .failure(400, "malformed request line") }
        let method = parts[0], target = parts[1], version = parts[2]
        guard !method.isEmpty, method.count <= 16, method.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }) else {
            return .failure(400, "malformed method")
        }
        guard target.first == UInt8(ascii: "/"), target.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            return .failure(400, "malformed request target")
        }
        let versionText = String(decoding: version, as: UTF8.self)
        guard versionText.hasPrefix("HTTP/") else { return .failure(400, "malformed HTTP version") }
        guard versionText == "HTTP/1.1" || versionText == "HTTP/1.0" else {
            return .failure(505, "HTTP version not supported")
        }
        let targetText = String(decoding: target, as: UTF8.self)
        let pieces = targetText.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        return .success((String(decoding: method, as: UTF8.self), String(pieces[0]),
                         pieces.count > 1 ? String(pieces[1]) : "", versionText == "HTTP/1.1"))
    }

    /// `name: value`: a token name right before the colon, a value of visible
    /// characters, spaces and tabs (trimmed at both ends).
    private static func parseHeader(_ line: UnsafeRawBufferPointer) -> (name: String, value: String)? {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0 else { return nil }
        let name = line[0..<colon]
        guard name.allSatisfy(isTokenByte) else { return nil }
        let value = line[(colon + 1)...]
        guard value.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else { return nil }
        return (String(decoding: name, as: UTF8.self).lowercased(),
                String(decoding: value, as: UTF8.self).trimmingSpaces)
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    private let crlf: [UInt8] = [0x0D, 0x0A]
    private let crlfcrlf: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A]

    /// Where `needle` starts in the first `limit` bytes, if it does.
    private static func find(_ needle: [UInt8], in bytes: UnsafeRawBufferPointer, limit: Int) -> Int? {
        let end = min(bytes.count, limit)
        guard end >= needle.count else { return nil }
        var i = 0
        while i <= end - needle.count {
            if bytes[i] == needle[0] {
                var matched = true
                for j in 1..<needle.count where bytes[i + j] != needle[j] { matched = false; break }
                if matched { return i }
            }
            i += 1
        }
        return nil
    }

    /// Splits a header block on CRLF; a lone CR or LF inside a line, or a
    /// line starting with whitespace (obsolete folding), makes the line invalid.
    private static func splitLines(_ head: UnsafeRawBufferPointer) -> [UnsafeRawBufferPointer] {
        var lines: [UnsafeRawBufferPointer] = []
        var start = 0
        var i = 0
        while i < head.count {
            if head[i] == 0x0D && i + 1 < head.count && head[i + 1] == 0x0A {
                lines.append(UnsafeRawBufferPointer(rebasing: head[start..<i]))
                i += 2
                start = i
            } else {
                i += 1
            }
        }
        lines.append(UnsafeRawBufferPointer(rebasing: head[start..<head.count]))
        return lines.map { line in
            let bad = line.contains(0x0D) || line.contains(0x0A) || line.first == 0x20 || line.first == 0x09
            return bad ? UnsafeRawBufferPointer(start: nil, count: 0) : line
        }
    }

    /// %XX decoding (a `+` stays a `+`: only query strings of HTML forms use it for space).
    static func percentDecoded<S: StringProtocol>(_ text: S) -> String? {
        var out: [UInt8] = []
        var bytes = Array(text.utf8)[...]
        while let byte = bytes.popFirst() {
            if byte == UInt8(ascii: "%") {
                guard bytes.count >= 2, let high = hexValue(bytes.removeFirst()), let low = hexValue(bytes.removeFirst()) else {
                    return nil
                }
                out.append(high << 4 | low)
            } else {
                out.append(byte)
            }
        }
        let text = String(decoding: out, as: UTF8.self)
        return text.utf8.count == out.count && !text.contains("\u{FFFD}") ? text : nil
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        let text = String(self)
        guard let first = text.firstIndex(where: { $0 != " " && $0 != "\t" }) else { return "" }
        let last = text.lastIndex(where: { $0 != " " && $0 != "\t" })!
        return String(text[first...last])
    }
}

extension HTTPRequestParser {
    /// For the fuzz target: parses `bytes` as pipelined requests the way a
    /// connection does, decoding paths and query values on the way, with
    /// limits small enough that every size check is reached quickly.
    public static func exercise(_ bytes: UnsafeRawBufferPointer) {
        var parser = HTTPRequestParser()
        parser.limits = HTTPLimits(maxRequestLine: 256, maxHeaderBytes: 1024, maxHeaderCount: 16, maxBody: 4096)
        var rest = bytes
        while !rest.isEmpty {
            guard case let .request(request, consumed) = parser.parse(rest) else { return }
            precondition(consumed > 0 && consumed <= rest.count)
            for segment in request.path.split(separator: "/") { _ = percentDecoded(segment) }
            _ = request.queryValue("count")
            _ = request.keepAlive
            rest = UnsafeRawBufferPointer(rebasing: rest[consumed...])
        }
    }
}
