import JobdSystem
import Glibc

/// Runs a server the way `jobd serve` does: log file, data directory,
/// listeners, the log loaded, the loop until SIGTERM or SHUTDOWN. Used by
/// the `jobd` command and by programs that embed jobd (JobdKit).
public enum ServerLauncher {
    /// Returns the process exit status. `commandLineConfig`: the directives
    /// given as flags, as config text (a reload applies them over the file again).
    public static func run(config: ServerConfig, configFile: String = "", commandLineConfig: String = "",
                           version: String) -> Int32 {
        // First, while this is the only thread: it takes the variables out of the environment.
        let notifier = SystemdNotifier.fromEnvironment()
        Log.level = config.logLevel
        do {
            try Log.setFile(config.logFile)
        } catch {
            Log.warning("Can't open the log file: \(error)")
            return 1
        }
        ProcessMemory.returnLargeBuffersToSystem()
        if !makeDirectory(config.dir) {
            Log.warning("Can't create the data directory '\(config.dir)': \(String(cString: strerror(errno)))")
            return 1
        }
        adjustOpenFilesLimit(config)
        let server: Server
        do {
            server = try Server(config: config)
        } catch {
            Log.warning("Failed listening: \(error)")
            return 1
        }
        server.configFile = configFile
        server.commandLineConfig = commandLineConfig
        server.notify(with: notifier)
        server.beginLoadingAppendOnlyLog()
        if !config.pidFile.isEmpty { writePIDFile(config.pidFile) }
        Log.notice("jobd \(version) started, pid=\(getpid())")
        Log.notice("Listening on \(server.listeningDescriptions.joined(separator: ", "))")
        server.run()
        if !config.pidFile.isEmpty { unlink(config.pidFile) }
        return server.startupFailure == nil ? 0 : 1
    }

    /// Descriptors kept for things other than clients: listeners, the log,
    /// epoll, eventfds, pipes of exec'd handlers (Redis keeps 32).
    static let reservedDescriptors = 64

    /// Like Redis: raise the open-files limit for maxclients RESP clients
    /// plus the HTTP port's connections; when the system will not allow it,
    /// lower maxclients to fit and say so.
    static func adjustOpenFilesLimit(_ config: ServerConfig) {
        let http = config.httpPort == 0 ? 0 : Server.httpMaxConnections(config)
        let wanted = config.maxClients + http + reservedDescriptors
        let granted = OpenFilesLimit.raise(to: wanted)
        guard granted < wanted else { return }
        let fitting = max(1, granted - http - reservedDescriptors)
        Log.warning("You requested maxclients of \(config.maxClients) requiring at least \(wanted) max file descriptors; the open files limit is \(granted), so maxclients is now \(fitting) (raise it with ulimit -n or LimitNOFILE=).")
        config.maxClients = fitting
    }

    /// mkdir -p
    static func makeDirectory(_ path: String) -> Bool {
        var current = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            current += (current.isEmpty || current.hasSuffix("/") ? "" : "/") + part
            if mkdir(current, 0o755) != 0 && errno != EEXIST { return false }
        }
        return true
    }

    static func writePIDFile(_ path: String) {
        let text = "\(getpid())\n"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            Log.warning("Failed to write PID file \(path): \(String(cString: strerror(errno)))")
            return
        }
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { _ = try? FileDescriptor.writeAll(fd, UnsafeRawBufferPointer($0)) }
        close(fd)
    }
}
