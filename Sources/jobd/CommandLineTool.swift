import JobdServer
import JobdSystem
import Glibc

enum CommandLineTool {
    static let usage = """
    jobd \(JobdVersion.text): a job server that speaks the Redis protocol.

    Usage:
      jobd serve [CONFIG-FILE] [--config FILE] [--DIRECTIVE VALUE ...]
          Run the server. Every directive of the config file can also be
          given as a flag (--port 6380 --dir /var/lib/jobd); flags override
          the file. With no arguments: port 6379 on 127.0.0.1 and ::1,
          data in ./data.
      jobd check-aof <appendonly.aof.manifest | file.aof> [--fix] [--yes]
          Verify the append-only log (checksums and framing of every batch);
          --fix truncates a damaged file to its last good batch.
      jobd bench [--runs N] [--jobs N] [--tcp-jobs N] [--clients N] [--pipeline N] [--workers N] [--only ring,dispatch,tcp]
          Measure the dispatch core on this machine: the rings alone, in-process
          dispatch with noop workers, and LPUSH over TCP into a queue with noop
          workers against redis-server's LPUSH (when installed); prints a table.
      jobd enqueue QUEUE PAYLOAD [--priority N] [--delay 30s] [--at TIME] [--retries N] [--backoff 1s]
                   [--backoff-max 1m] [--jitter] [--timeout 30s] [--ttl 1h] [--unique KEY [--unique-for 10m]]
                   [--result-ttl 1h] [--id ID]
          Add a job (JOB.ADD) to a running server; prints its id. PAYLOAD - reads stdin.
      jobd stats [--watch] [--interval 2s]
          A table of the queues: counts by state, rates, oldest pending, workers.
      jobd dead QUEUE [--count N] [--requeue]
          List a queue's dead letters, or send them all back to pending.
      jobd job ID
          Show one job (JOB.INFO).
      jobd ping
          PING the server; prints the round-trip time.
          The client subcommands take --host, --port, --socket, --user, --password,
          --db, or JOBD_URL=redis://[user:password@]host:port[/db]; --help shows each one's options.
      jobd version
          Print the version.
      jobd help [SUBCOMMAND]
          Print this text, or a subcommand's usage.

    Examples:
      jobd serve --port 6380 --loglevel verbose
      jobd serve /etc/jobd/jobd.conf
      redis-cli -p 6380 LPUSH emails '{"to":"a@b.c"}'
      jobd enqueue --port 6380 emails '{"to":"a@b.c"}' --retries 5 --backoff 1s
      jobd stats --port 6380 --watch
    """

    /// The subcommands that are clients of a running server.
    static var clientSubcommands: [any ClientSubcommand.Type] {
        [EnqueueCommand.self, StatsCommand.self, DeadCommand.self, JobCommand.self, PingCommand.self]
    }

    static func run(_ arguments: [String]) -> Int32 {
        guard let command = arguments.first else { return serve([]) }
        switch command {
        case "serve": return serve(Array(arguments.dropFirst()))
        case "check-aof": return CheckLogCommand.run(Array(arguments.dropFirst()))
        case "bench": return BenchCommand.run(Array(arguments.dropFirst()))
        case "version", "--version", "-v":
            print("jobd \(JobdVersion.text) (Redis protocol \(JobdVersion.redisCompatible))")
            return 0
        case "help", "--help", "-h":
            if arguments.count > 1 {
                guard let client = clientSubcommands.first(where: { $0.name == arguments[1] }) else {
                    // The server's commands are described in the general text.
                    guard ["serve", "check-aof", "bench", "version", "help"].contains(arguments[1]) else {
                        printError("jobd: no help for '\(arguments[1])'\n\n\(usage)")
                        return 2
                    }
                    print(usage)
                    return 0
                }
                ClientCommand.writeOut(lines: [ClientCommand.fullUsage(client)])
                return 0
            }
            print(usage)
            return 0
        default:
            if let client = clientSubcommands.first(where: { $0.name == command }) {
                return ClientCommand.run(client, Array(arguments.dropFirst()))
            }
            if command.hasPrefix("--") { return serve(arguments) }
            printError("jobd: unknown command '\(command)'\n\n\(usage)")
            return 2
        }
    }

    static func serve(_ arguments: [String]) -> Int32 {
        let config = ServerConfig()
        var flags = arguments
        var configFile = ""
        if let first = flags.first, !first.hasPrefix("--") {
            configFile = first
            flags.removeFirst()
        }
        if let index = flags.firstIndex(of: "--config") {
            guard index + 1 < flags.count else {
                printError("jobd: --config needs a file name")
                return 1
            }
            configFile = flags[index + 1]
            flags.removeSubrange(index...(index + 1))
        }
        let commandLineConfig = ConfigLoader.flagsToText(flags)
        do {
            if !configFile.isEmpty {
                guard let text = FileDescriptor.readTextFile(configFile) else {
                    printError("Fatal error, can't open config file '\(configFile)': \(String(cString: strerror(errno)))")
                    return 1
                }
                try ConfigLoader.apply(text, source: "the configuration file '\(configFile)'", to: config)
            }
            if let stray = flags.first(where: { !$0.hasPrefix("--") }), flags.first == stray {
                printError("jobd: expected --directive, got '\(stray)'")
                return 1
            }
            try ConfigLoader.apply(commandLineConfig, source: "the command line", to: config)
        } catch {
            printError(error.description)
            return 1
        }
        return ServeCommand.start(config: config, configFile: configFile, commandLineConfig: commandLineConfig)
    }

    static func printError(_ text: String) {
        var line = Array((text + "\n").utf8)
        line.withUnsafeMutableBytes { _ = try? FileDescriptor.writeAll(2, UnsafeRawBufferPointer($0)) }
    }
}
