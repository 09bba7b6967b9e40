import JobdRESP
import JobdSystem
import Glibc

/// Why a client subcommand stopped; each kind has its exit status.
enum ClientError: Error {
    /// A bad command line (unknown option, missing argument, bad duration): exit 2, with the usage.
    case usage(String)
    /// The server answered with an error (`-ERR`, `-NOAUTH`, `-WRONGTYPE`, ...): exit 1.
    case server(String)
    /// No connection, or it broke: exit 1.
    case connection(String)
}

/// One client subcommand: its name, usage text, options, and what it does
/// with its parsed arguments. `ClientCommand.run` supplies the rest.
protocol ClientSubcommand {
    static var name: String { get }
    /// The usage line and option descriptions (the connection options are appended).
    static var usage: String { get }
    /// Options that take a value (`--priority 3` or `--priority=3`).
    static var valueOptions: Set<String> { get }
    /// Options that stand alone (`--jitter`).
    static var flagOptions: Set<String> { get }
    static func run(_ arguments: ClientArguments) throws -> Int32
}

/// What the client subcommands share: parsing, help, connecting, and
/// turning each failure into its message and exit status.
enum ClientCommand {
    static let connectionUsage = """
    Connection (every client subcommand):
      --host HOST        server host (default 127.0.0.1)
      --port PORT        server port (default 6379)
      --socket PATH      a unix socket instead of host and port
      --user USER        ACL user for AUTH (default: none)
      --password PASS    sends AUTH before anything else
      --db N             SELECT this database (default 0)
      JOBD_URL           redis://[user:password@]host:port[/db] or unix:///path[?db=N&password=PASS];
                         flags override it
    """

    static func fullUsage<Command: ClientSubcommand>(_ command: Command.Type) -> String {
        command.usage + "\n\n" + connectionUsage
    }

    static func run<Command: ClientSubcommand>(_ command: Command.Type, _ words: [String]) -> Int32 {
        // A server that goes away must not kill the client with SIGPIPE: it gets an error to report.
        ShutdownSignals.ignoreBrokenPipe()
        do {
            let arguments = try ClientArguments(words, valueOptions: command.valueOptions, flagOptions: command.flagOptions,
                                                environmentURL: getenv("JOBD_URL").map { String(cString: $0) })
            if arguments.help {
                writeOut(lines: [fullUsage(command)])
                return 0
            }
            return try command.run(arguments)
        } catch let error as ClientError {
            switch error {
            case let .usage(message):
                CommandLineTool.printError("jobd \(command.name): \(message)\n\n\(command.usage)\n"
                                           + "  (connection options: jobd \(command.name) --help)")
                return 2
            case let .server(message):
                // "ERR" says nothing to a person; other codes (WRONGTYPE, NOAUTH) do.
                CommandLineTool.printError("jobd \(command.name): \(message.hasPrefix("ERR ") ? String(message.dropFirst(4)) : message)")
                return 1
            case let .connection(message):
                CommandLineTool.printError("jobd \(command.name): \(message)")
                return 1
            }
        } catch {
            CommandLineTool.printError("jobd \(command.name): \(error)")
            return 1
        }
    }

    /// Connects, authenticates, switches to RESP3 and selects the database.
    static func connect(_ address: ServerAddress) throws -> RESPConnection {
        let connection = try RESPConnection.connect(address.endpoint)
        if let password = address.password {
            try expectSuccess(connection.call(["AUTH"] + (address.user.map { [$0] } ?? []) + [password]))
        }
        let hello = try connection.call("HELLO", "3")
        if case let .error(message) = hello, message.hasPrefix("NOAUTH") {
            // The server's own text explains HELLO's AUTH option; a person needs the flag.
            throw ClientError.server("NOAUTH the server requires a password: give --password or JOBD_URL=redis://:PASSWORD@host:port")
        }
        try expectSuccess(hello)
        if address.database != 0 {
            try expectSuccess(connection.call("SELECT", String(address.database)))
        }
        return connection
    }

    /// Sends a command; an error reply becomes `ClientError.server`.
    static func call(_ connection: RESPConnection, _ words: [[UInt8]]) throws -> RESPValue {
        try expectSuccess(connection.call(words))
    }

    static func call(_ connection: RESPConnection, _ words: [String]) throws -> RESPValue {
        try call(connection, words.map { Array($0.utf8) })
    }

    static func call(_ connection: RESPConnection, _ words: String...) throws -> RESPValue { try call(connection, words) }

    @discardableResult
    static func expectSuccess(_ reply: RESPValue) throws -> RESPValue {
        if case let .error(message) = reply { throw ClientError.server(message) }
        return reply
    }

    /// Writes bytes to stdout as they are (an id need not be UTF-8), at once:
    /// the client subcommands write nothing through `print`'s buffer, so
    /// output is never held back or reordered (a `--watch` frame shows when drawn).
    ///
    /// Returns false when stdout is closed (`jobd stats --watch | head -5`):
    /// not worth an error message, but `--watch` stops drawing.
    @discardableResult
    static func writeOut(_ bytes: [UInt8]) -> Bool {
        (try? bytes.withUnsafeBytes { try FileDescriptor.writeAll(1, $0) }) != nil
    }

    static func writeOut(lines: [String]) {
        writeOut(Array(lines.map { $0 + "\n" }.joined().utf8))
    }
}
