import JobdSystem
import Glibc

/// A blocking RESP client for `jobd bench`: enough to send pipelined
/// commands and read simple replies (integers, status, bulk strings).
final class BenchClient: @unchecked Sendable {
    let fd: Int32
    private var input: [UInt8] = []
    private var position = 0

    init(port: Int) throws {
        fd = try Socket.connectTCP(host: "127.0.0.1", port: port)
        Socket.setNoDelay(fd)
    }

    deinit { FileDescriptor.close(fd) }

    static func encode(_ words: [String]) -> [UInt8] {
        var out = Array("*\(words.count)\r\n".utf8)
        for word in words {
            let bytes = Array(word.utf8)
            out += Array("$\(bytes.count)\r\n".utf8) + bytes + [13, 10]
        }
        return out
    }

    func send(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try FileDescriptor.writeAll(fd, $0) }
    }

    /// Reads one reply; returns its first line (without the type byte) or, for a bulk string, its bytes.
    func readReply() throws -> [UInt8] {
        let line = try readLine()
        guard let type = line.first else { throw SystemError("empty reply", errno: EPROTO) }
        if type == UInt8(ascii: "$") {
            guard let length = Int(String(decoding: line.dropFirst(), as: UTF8.self)), length >= 0 else { return [] }
            while input.count - position < length + 2 { try fill() }
            defer { position += length + 2 }
            return Array(input[position..<(position + length)])
        }
        if type == UInt8(ascii: "-") { throw SystemError("server error: \(String(decoding: line, as: UTF8.self))", errno: EPROTO) }
        return Array(line.dropFirst())
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

    func command(_ words: String...) throws -> [UInt8] {
        try send(BenchClient.encode(words))
        return try readReply()
    }

    private func readLine() throws -> [UInt8] {
        while true {
            if let newline = input[position...].firstIndex(of: 10) {
                let line = input[position..<max(position, newline - 1)]
                position = newline + 1
                return Array(line)
            }
            try fill()
        }
    }

    private func fill() throws {
        compact()
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { throw SystemError("connection closed", errno: n == 0 ? ECONNRESET : errno) }
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
