import JobdRESP
import JobdSystem
import Glibc

/// A blocking RESP client over TCP or a unix socket. The client subcommands
/// (`jobd enqueue`, `stats`, ...) talk to a server through it, and
/// `jobd bench` drives its pipelined load with it.
final class RESPConnection: @unchecked Sendable {
    let fd: Int32
    private var input: [UInt8] = []
    private var position = 0

    private init(fd: Int32) { self.fd = fd }

    /// A plain connection to a local port (bench's servers).
    convenience init(port: Int) throws {
        try self.init(fd: Socket.connectTCP(host: "127.0.0.1", port: port))
        Socket.setNoDelay(fd)
    }

    deinit { FileDescriptor.close(fd) }

    /// Connects to `endpoint`, trying each address a host name resolves to.
    /// Throws `ClientError.connection` naming the address.
    static func connect(_ endpoint: ServerAddress.Endpoint) throws -> RESPConnection {
        switch endpoint {
        case let .unix(path):
            do {
                return RESPConnection(fd: try Socket.connectUnix(path: path))
            } catch let error as SystemError {
                throw ClientError.connection("cannot connect to \(endpoint.text): \(String(cString: strerror(error.errno)))")
            }
        case let .tcp(host, port):
            var lastError = "no address found"
            for literal in HostResolver.addresses(of: host) {
                do {
                    let connection = RESPConnection(fd: try Socket.connectTCP(host: literal, port: port))
                    Socket.setNoDelay(connection.fd)
                    return connection
                } catch let error as SystemError {
                    lastError = String(cString: strerror(error.errno))
                }
            }
            throw ClientError.connection("cannot connect to \(endpoint.text): \(lastError)")
        }
    }

    static func encode(_ words: [[UInt8]]) -> [UInt8] {
        var out = Array("*\(words.count)\r\n".utf8)
        for word in words {
            out += Array("$\(word.count)\r\n".utf8) + word + [13, 10]
        }
        return out
    }

    static func encode(_ words: [String]) -> [UInt8] { encode(words.map { Array($0.utf8) }) }

    func send(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try FileDescriptor.writeAll(fd, $0) }
    }

    /// Sends one command and reads its reply. An error reply is returned
    /// as `.error`, not thrown: callers decide what it means.
    func call(_ words: [[UInt8]]) throws -> RESPValue {
        try send(RESPConnection.encode(words))
        return try readReply()
    }

    func call(_ words: [String]) throws -> RESPValue { try call(words.map { Array($0.utf8) }) }

    func call(_ words: String...) throws -> RESPValue { try call(words) }

    /// Sends every command at once, then reads their replies in order.
    func pipeline(_ commands: [[[UInt8]]]) throws -> [RESPValue] {
        try send(commands.flatMap(RESPConnection.encode))
        return try commands.map { _ in try readReply() }
    }

    /// Reads one reply of any type (RESP2 or RESP3).
    func readReply() throws -> RESPValue {
        while true {
            if position < input.count,
               let (value, used) = try input[position...].withUnsafeBytes({ try ReplyParser().parse($0) }) {
                position += used
                compact()
                return value
            }
            try fill()
        }
    }

    /// Reads `count` one-line replies (pipelined LPUSH answers) without decoding them.
    func skipLineReplies(_ count: Int) throws {
        var left = count
        while left > 0 {
            while let newline = input[position...].firstIndex(of: 10) {
                position = newline + 1
                left -= 1
                if left == 0 { break }
            }
            if left > 0 { try fill() }
        }
        compact()
    }

    private func fill() throws {
        compact()
        // Reads grow with what is buffered, so an incomplete large reply is
        // parsed again only a logarithmic number of times.
        var chunk = [UInt8](repeating: 0, count: max(64 * 1024, input.count - position))
        let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { return }
        guard n > 0 else {
            throw ClientError.connection(n == 0 ? "the server closed the connection"
                                                : "read failed: \(String(cString: strerror(errno)))")
        }
        input += chunk[0..<n]
    }

    private func compact() {
        if position > 0 && position == input.count {
            input.removeAll(keepingCapacity: true)
            position = 0
        } else if position > 1 << 20 {
            input.removeFirst(position)
            position = 0
        }
    }
}

/// Host names to address literals for `Socket.connectTCP`, which takes only literals.
enum HostResolver {
    static func addresses(of host: String) -> [String] {
        var probe4 = in_addr(), probe6 = in6_addr()
        if inet_pton(AF_INET, host, &probe4) == 1 || inet_pton(AF_INET6, host, &probe6) == 1 { return [host] }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0 else { return [] }
        defer { freeaddrinfo(list) }
        var result: [String] = []
        var node = list
        while let info = node?.pointee {
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
            if info.ai_family == AF_INET {
                var address = info.ai_addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                inet_ntop(AF_INET, &address, &text, socklen_t(text.count))
            } else if info.ai_family == AF_INET6 {
                var address = info.ai_addr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                inet_ntop(AF_INET6, &address, &text, socklen_t(text.count))
            }
            let literal = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if !literal.isEmpty && !result.contains(literal) { result.append(literal) }
            node = info.ai_next
        }
        return result
    }
}
