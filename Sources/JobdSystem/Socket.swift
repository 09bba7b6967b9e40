import CJobdSystem
import Glibc

/// TCP and unix-domain sockets: listening, accepting, options, addresses.
public enum Socket {
    /// A socket address as text, e.g. "127.0.0.1:6379" or "::1:6379" (Redis' CLIENT LIST style).
    public struct Peer: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var isUnix: Bool
        public var isLoopback: Bool

        public var text: String { isUnix ? "\(host):0" : "\(host):\(port)" }

        public init(host: String, port: Int, isUnix: Bool, isLoopback: Bool) {
            self.host = host
            self.port = port
            self.isUnix = isUnix
            self.isLoopback = isLoopback
        }
    }

    /// Opens a listening, non-blocking TCP socket on `host` ("127.0.0.1", "::1", "0.0.0.0", "*", "::").
    public static func listenTCP(host: String, port: Int, backlog: Int32) throws -> Int32 {
        let literal = host == "*" ? "0.0.0.0" : host
        let isIPv6 = literal.contains(":")
        let fd = Glibc.socket(isIPv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try check("socket", Int(fd))
        do {
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            if isIPv6 {
                // Keep IPv6 listeners IPv6-only so "bind 127.0.0.1 ::1" can hold both.
                setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
                var addr = sockaddr_in6()
                addr.sin6_family = sa_family_t(AF_INET6)
                addr.sin6_port = UInt16(port).bigEndian
                guard inet_pton(AF_INET6, literal, &addr.sin6_addr) == 1 else {
                    throw SystemError("bind \(host): not an IPv6 address", errno: EINVAL)
                }
                try bindAddress(fd, &addr, "bind \(host):\(port)")
            } else {
                var addr = sockaddr_in()
                addr.sin_family = sa_family_t(AF_INET)
                addr.sin_port = UInt16(port).bigEndian
                guard inet_pton(AF_INET, literal, &addr.sin_addr) == 1 else {
                    throw SystemError("bind \(host): not an IPv4 address", errno: EINVAL)
                }
                try bindAddress(fd, &addr, "bind \(host):\(port)")
            }
            try check("listen", Int(listen(fd, backlog)))
            return fd
        } catch {
            FileDescriptor.close(fd)
            throw error
        }
    }

    /// Opens a listening unix-domain socket at `path` with permissions `mode`.
    public static func listenUnix(path: String, mode: mode_t, backlog: Int32) throws -> Int32 {
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try check("socket", Int(fd))
        do {
            var addr = try unixAddress(path, "unixsocket")
            unlink(path)
            try bindAddress(fd, &addr, "bind \(path)")
            if mode != 0 { chmod(path, mode) }
            try check("listen", Int(listen(fd, backlog)))
            return fd
        } catch {
            FileDescriptor.close(fd)
            throw error
        }
    }

    /// `path` as a unix-domain address; `what` names the caller in the too-long error.
    private static func unixAddress(_ path: String, _ what: String) throws -> sockaddr_un {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            throw SystemError("\(what): path too long", errno: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return addr
    }

    private static func bindAddress<Address>(_ fd: Int32, _ addr: inout Address, _ what: String) throws {
        let size = socklen_t(MemoryLayout<Address>.size)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, size) }
        }
        try check(what, Int(rc))
    }

    /// Accepts one connection; nil when none is pending (EAGAIN) or on a transient error.
    public static func accept(_ listener: Int32) -> (fd: Int32, peer: Peer)? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let fd = withUnsafeMutablePointer(to: &storage) { raw in
            raw.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                Int32(retryingInterrupts { Int(cjobd_accept_nonblocking(listener, address, &length)) })
            }
        }
        if fd < 0 { return nil }
        return (fd, peer(of: storage))
    }

    /// The local address of a connected socket.
    public static func localAddress(_ fd: Int32) -> Peer {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return peer(of: storage)
    }

    static func peer(of storage: sockaddr_storage) -> Peer {
        var storage = storage
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                    var a = sin.pointee.sin_addr
                    inet_ntop(AF_INET, &a, &text, socklen_t(text.count))
                    let host = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    return Peer(host: host, port: Int(UInt16(bigEndian: sin.pointee.sin_port)), isUnix: false,
                                isLoopback: host.hasPrefix("127."))
                }
            }
        case AF_INET6:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                    var a = sin6.pointee.sin6_addr
                    inet_ntop(AF_INET6, &a, &text, socklen_t(text.count))
                    let host = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    return Peer(host: host, port: Int(UInt16(bigEndian: sin6.pointee.sin6_port)), isUnix: false,
                                isLoopback: host == "::1" || host.hasPrefix("::ffff:127."))
                }
            }
        default:
            return Peer(host: "/unixsocket", port: 0, isUnix: true, isLoopback: true)
        }
    }

    public static func setNoDelay(_ fd: Int32) {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Enables TCP keepalive with the given interval (seconds), as Redis' tcp-keepalive.
    public static func setKeepAlive(_ fd: Int32, intervalSeconds: Int32) {
        guard intervalSeconds > 0 else { return }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, socklen_t(MemoryLayout<Int32>.size))
        var idle = intervalSeconds
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPIDLE, &idle, socklen_t(MemoryLayout<Int32>.size))
        var interval = max(1, intervalSeconds / 3)
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPINTVL, &interval, socklen_t(MemoryLayout<Int32>.size))
        var probes: Int32 = 3
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPCNT, &probes, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Connects a blocking TCP client socket (used by tests and the CLI).
    public static func connectTCP(host: String, port: Int) throws -> Int32 {
        let isIPv6 = host.contains(":")
        let fd = Glibc.socket(isIPv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try check("socket", Int(fd))
        if isIPv6 {
            var addr = sockaddr_in6()
            addr.sin6_family = sa_family_t(AF_INET6)
            addr.sin6_port = UInt16(port).bigEndian
            // An unparsed host would leave the address zero, which connects to this machine.
            guard inet_pton(AF_INET6, host, &addr.sin6_addr) == 1 else {
                FileDescriptor.close(fd)
                throw SystemError("connect \(host): not an IPv6 address", errno: EINVAL)
            }
            try connectAddress(fd, &addr, "connect \(host):\(port)")
        } else {
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = UInt16(port).bigEndian
            guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else {
                FileDescriptor.close(fd)
                throw SystemError("connect \(host): not an IPv4 address", errno: EINVAL)
            }
            try connectAddress(fd, &addr, "connect \(host):\(port)")
        }
        return fd
    }

    /// Connects a blocking unix-domain client socket (the CLI's `--socket`).
    public static func connectUnix(path: String) throws -> Int32 {
        var addr = try unixAddress(path, "connect \(path)")
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try check("socket", Int(fd))
        try connectAddress(fd, &addr, "connect \(path)")
        return fd
    }

    /// connect(2) of a client socket; on failure `fd` is closed and the error names `what`.
    private static func connectAddress<Address>(_ fd: Int32, _ addr: inout Address, _ what: String) throws {
        let size = socklen_t(MemoryLayout<Address>.size)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, size) }
        }
        if rc != 0 {
            let error = SystemError(what)
            FileDescriptor.close(fd)
            throw error
        }
    }
}
