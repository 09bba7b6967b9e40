import JobdRESP
import JobdSystem
import Glibc

/// A server process started for `jobd bench` (jobd itself or redis-server),
/// on a free port in a scratch directory, stopped with SIGTERM.
final class BenchServer {
    let pid: pid_t
    let port: Int
    let name: String

    private init(pid: pid_t, port: Int, name: String) {
        self.pid = pid
        self.port = port
        self.name = name
    }

    /// jobd from this very binary.
    static func jobd(port: Int, dir: String, flags: [String]) throws -> BenchServer {
        let path = (try? readLink("/proc/self/exe")) ?? CommandLine.arguments[0]
        let args = [path, "serve", "--http-port", "0", "--port", String(port), "--bind", "127.0.0.1", "--dir", dir,
                    "--loglevel", "warning"] + flags
        return try start(args, port: port, name: "jobd")
    }

    static func redis(port: Int, dir: String, appendFsync: String?) throws -> BenchServer {
        var args = ["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--dir", dir,
                    "--daemonize", "no", "--loglevel", "warning"]
        if let appendFsync { args += ["--appendonly", "yes", "--appendfsync", appendFsync] } else { args += ["--appendonly", "no"] }
        return try start(args, port: port, name: "redis-server")
    }

    static func redisAvailable() -> Bool {
        (getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin").split(separator: ":").contains {
            access("\($0)/redis-server", X_OK) == 0
        }
    }

    /// posix_spawnp with stdout and stderr to /dev/null.
    static func spawn(_ args: [String]) throws -> pid_t {
        var pid: pid_t = 0
        var cArgs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) }
        cArgs.append(nil)
        defer { for arg in cArgs { free(arg) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let rc = cArgs.withUnsafeBufferPointer { argv in
            posix_spawnp(&pid, args[0], &actions, nil, UnsafeMutablePointer(mutating: argv.baseAddress!), environ)
        }
        guard rc == 0 else { throw SystemError("spawn \(args[0])", errno: rc) }
        return pid
    }

    private static func start(_ args: [String], port: Int, name: String) throws -> BenchServer {
        let pid = try spawn(args)
        let server = BenchServer(pid: pid, port: port, name: name)
        for _ in 0..<500 {
            if let client = try? RESPConnection(port: port), (try? client.call("PING")) == .simple("PONG") { return server }
            usleep(20_000)
        }
        server.stop()
        throw SystemError("\(name) did not start on port \(port)", errno: ETIMEDOUT)
    }

    func stop() {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }

    /// A field of INFO (e.g. `total_jobs_completed`), as an integer.
    func infoField(_ client: RESPConnection, section: String, _ field: String) throws -> Int {
        let text = try client.call("INFO", section).text ?? ""
        for line in text.split(separator: "\r\n") where line.hasPrefix(field + ":") {
            return Int(line.dropFirst(field.count + 1)) ?? 0
        }
        return 0
    }

    static func freePort() -> Int {
        let fd = try? Socket.listenTCP(host: "127.0.0.1", port: 0, backlog: 1)
        defer { if let fd { FileDescriptor.close(fd) } }
        return fd.map { Socket.localAddress($0).port } ?? 17000 + Int(getpid() % 1000)
    }

    static func readLink(_ path: String) throws -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n > 0 else { throw SystemError("readlink \(path)") }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
