import JobdRESP
import JobdStore

/// Command flags, checked once by the dispatcher (and listed by COMMAND).
struct CommandFlags: OptionSet {
    let rawValue: UInt32
    static let write = CommandFlags(rawValue: 1 << 0)
    static let readonly = CommandFlags(rawValue: 1 << 1)
    static let denyOOM = CommandFlags(rawValue: 1 << 2)
    static let admin = CommandFlags(rawValue: 1 << 3)
    static let pubsub = CommandFlags(rawValue: 1 << 4)
    static let noScript = CommandFlags(rawValue: 1 << 5)
    static let blocking = CommandFlags(rawValue: 1 << 6)
    static let loading = CommandFlags(rawValue: 1 << 7)
    static let stale = CommandFlags(rawValue: 1 << 8)
    static let fast = CommandFlags(rawValue: 1 << 9)
    static let noAuth = CommandFlags(rawValue: 1 << 10)
    static let noMulti = CommandFlags(rawValue: 1 << 11)
    static let allowBusy = CommandFlags(rawValue: 1 << 12)

    /// Names as Redis' COMMAND reply shows them.
    var names: [String] {
        let table: [(CommandFlags, String)] = [
            (.write, "write"), (.readonly, "readonly"), (.denyOOM, "denyoom"), (.admin, "admin"),
            (.pubsub, "pubsub"), (.noScript, "noscript"), (.blocking, "blocking"), (.loading, "loading"),
            (.stale, "stale"), (.fast, "fast"), (.noAuth, "no_auth"), (.noMulti, "no_multi"),
            (.allowBusy, "allow_busy"),
        ]
        return table.filter { contains($0.0) }.map(\.1)
    }
}

/// Where the key arguments are (COMMAND's first/last/step).
struct KeyPositions {
    let first: Int
    let last: Int
    let step: Int
    static let none = KeyPositions(first: 0, last: 0, step: 0)
    static let one = KeyPositions(first: 1, last: 1, step: 1)
    static let all = KeyPositions(first: 1, last: -1, step: 1)

    /// The key positions in a call with `count` arguments.
    func indices(argumentCount count: Int) -> [Int] {
        guard first > 0 else { return [] }
        let lastIndex = last < 0 ? count + last : last
        guard lastIndex >= first else { return [] }
        return Array(stride(from: first, through: min(lastIndex, count - 1), by: step))
    }
}

/// Text for COMMAND DOCS.
struct CommandDocs {
    let summary: String
    let since: String
    let group: String
    let complexity: String
    /// The syntax after the command name, e.g. "key [EX seconds|PX milliseconds] [NX|XX]".
    let syntax: String
}

typealias CommandHandler = (Call) -> Void

/// One row of the command table: everything the dispatcher, COMMAND and
/// COMMAND DOCS need, and the function that runs it.
final class CommandSpec {
    /// Lowercase name; for subcommands the subcommand alone ("get").
    let name: String
    let nameBytes: [UInt8]
    /// Redis arity: n exactly, or -n for at least n (counting the name).
    let arity: Int
    let flags: CommandFlags
    let keys: KeyPositions
    let docs: CommandDocs
    let handler: CommandHandler
    let subcommands: [CommandSpec]
    /// "config|get" for subcommands, as in error messages.
    private(set) var fullName: String

    init(_ name: String, arity: Int, flags: CommandFlags, keys: KeyPositions = .none,
         group: String, since: String = "1.0.0", complexity: String = "O(1)",
         summary: String, syntax: String = "", subcommands: [CommandSpec] = [],
         handler: @escaping CommandHandler) {
        self.name = name
        nameBytes = Array(name.utf8)
        self.arity = arity
        self.flags = flags
        self.keys = keys
        docs = CommandDocs(summary: summary, since: since, group: group, complexity: complexity, syntax: syntax)
        self.handler = handler
        fullName = name
        self.subcommands = subcommands
        for sub in subcommands { sub.fullName = "\(name)|\(sub.name)" }
    }

    var isContainer: Bool { !subcommands.isEmpty }

    @inline(__always)
    func acceptsArgumentCount(_ count: Int) -> Bool {
        arity > 0 ? count == arity : count >= -arity
    }

    /// The subcommand named by `name`, case-insensitive.
    func subcommand(_ name: UnsafeRawBufferPointer) -> CommandSpec? {
        subcommands.first { ASCII.equalsIgnoringCase(name, $0.nameBytes) }
    }
}
