/// Where a client subcommand connects and how it logs in: JOBD_URL first,
/// then the connection flags, which override it field by field.
struct ServerAddress: Equatable {
    enum Endpoint: Equatable {
        case tcp(host: String, port: Int)
        case unix(path: String)

        /// As error messages name it: `127.0.0.1:6379`, `[::1]:6379`, `/run/jobd.sock`.
        var text: String {
            switch self {
            case let .tcp(host, port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            case let .unix(path): path
            }
        }
    }

    static let defaultHost = "127.0.0.1"
    static let defaultPort = 6379

    var endpoint = Endpoint.tcp(host: defaultHost, port: defaultPort)
    var user: String?
    var password: String?
    var database = 0

    /// The connection flags given on the command line (nil: not given).
    struct Flags {
        var host: String?
        var port: String?
        var socket: String?
        var user: String?
        var password: String?
        var database: String?
    }

    /// JOBD_URL (if set), then `flags` over it.
    static func resolve(environmentURL: String?, flags: Flags) throws -> ServerAddress {
        var address = ServerAddress()
        if let url = environmentURL, !url.isEmpty {
            do {
                address = try parse(url: url)
            } catch let ClientError.usage(message) {
                throw ClientError.usage("JOBD_URL: \(message)")
            }
        }
        if let socket = flags.socket {
            guard flags.host == nil && flags.port == nil else { throw ClientError.usage("--socket cannot be combined with --host or --port") }
            guard !socket.isEmpty else { throw ClientError.usage("--socket needs a path") }
            address.endpoint = .unix(path: socket)
        } else if flags.host != nil || flags.port != nil {
            var (host, port) = (defaultHost, defaultPort)
            if case let .tcp(urlHost, urlPort) = address.endpoint { (host, port) = (urlHost, urlPort) }
            if let flagHost = flags.host {
                guard !flagHost.isEmpty else { throw ClientError.usage("--host needs a host name or address") }
                host = flagHost
            }
            if let text = flags.port { port = try parsePort(text, "--port") }
            address.endpoint = .tcp(host: host, port: port)
        }
        if let user = flags.user { address.user = user }
        if let password = flags.password { address.password = password }
        if let text = flags.database { address.database = try parseDatabase(text, "--db") }
        return address
    }

    /// `redis://[user:password@]host[:port][/db]` or `unix:///path[?db=N&user=U&password=P]`.
    /// User and password may be percent-encoded.
    static func parse(url: String) throws -> ServerAddress {
        var address = ServerAddress()
        if url.hasPrefix("unix://") {
            var rest = Substring(url.dropFirst("unix://".count))
            if let query = rest.firstIndex(of: "?") {
                for pair in rest[rest.index(after: query)...].split(separator: "&") {
                    let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                    let value = try percentDecoded(parts.count == 2 ? parts[1] : "")
                    switch parts[0] {
                    case "db": address.database = try parseDatabase(value, "db")
                    case "user": address.user = value
                    case "password": address.password = value
                    default: throw ClientError.usage("unknown parameter '\(parts[0])' (expected db, user or password)")
                    }
                }
                rest = rest[..<query]
            }
            guard rest.hasPrefix("/") else { throw ClientError.usage("expected unix:///absolute/path, got '\(url)'") }
            address.endpoint = .unix(path: String(rest))
            return address
        }
        guard url.hasPrefix("redis://") else {
            throw ClientError.usage("expected redis://[user:password@]host:port[/db] or unix:///path, got '\(url)'")
        }
        var rest = Substring(url.dropFirst("redis://".count))
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            if !path.isEmpty { address.database = try parseDatabase(String(path), "database") }
            rest = rest[..<slash]
        }
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            if let colon = credentials.firstIndex(of: ":") {
                let user = try percentDecoded(credentials[..<colon])
                address.user = user.isEmpty ? nil : user
                address.password = try percentDecoded(credentials[credentials.index(after: colon)...])
            } else {
                // redis://secret@host: one word is the password, as redis-cli reads it.
                address.password = try percentDecoded(credentials)
            }
            rest = rest[rest.index(after: at)...]
        }
        var host = defaultHost, port = defaultPort
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw ClientError.usage("unclosed '[' in '\(url)'") }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw ClientError.usage("unexpected '\(after)' after the address in '\(url)'") }
                port = try parsePort(String(after.dropFirst()), "port")
            }
        } else if let colon = rest.lastIndex(of: ":") {
            if colon != rest.startIndex { host = String(rest[..<colon]) }
            port = try parsePort(String(rest[rest.index(after: colon)...]), "port")
        } else if !rest.isEmpty {
            host = String(rest)
        }
        address.endpoint = .tcp(host: host, port: port)
        return address
    }

    static func parsePort(_ text: String, _ what: String) throws -> Int {
        guard let port = Int(text), (1...65535).contains(port) else {
            throw ClientError.usage("\(what) must be a port number from 1 to 65535, got '\(text)'")
        }
        return port
    }

    static func parseDatabase(_ text: String, _ what: String) throws -> Int {
        // The server knows how many databases it has; this checks only the form.
        guard let database = Int(text), database >= 0 else {
            throw ClientError.usage("\(what) must be a database number >= 0, got '\(text)'")
        }
        return database
    }

    /// `%40` → `@`: URLs carry reserved characters of passwords encoded.
    static func percentDecoded(_ text: Substring) throws -> String {
        var bytes: [UInt8] = []
        var i = text.utf8.startIndex
        let utf8 = text.utf8
        while i < utf8.endIndex {
            let byte = utf8[i]
            if byte == UInt8(ascii: "%") {
                let first = utf8.index(after: i)
                guard first < utf8.endIndex, utf8.index(after: first) < utf8.endIndex,
                      let value = UInt8(String(decoding: utf8[first...utf8.index(after: first)], as: UTF8.self), radix: 16) else {
                    throw ClientError.usage("bad percent escape in '\(text)'")
                }
                bytes.append(value)
                i = utf8.index(first, offsetBy: 2)
            } else {
                bytes.append(byte)
                i = utf8.index(after: i)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
