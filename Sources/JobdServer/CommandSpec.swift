import JobdRESP
import JobdStore
import JobdSystem

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
    /// Its log records never hold the reply for durability (a JOB.GET lease:
    /// after a crash the job is pending again anyway). Not shown by COMMAND.
    static let replyBeforeSync = CommandFlags(rawValue: 1 << 13)

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
    /// For "numkeys key [key ...]" commands: where numkeys is (the keys
    /// follow it); `first...last` then name keys before it (a destination) or
    /// nothing. COMMAND shows such commands with their fixed keys only.
    var numkeysIndex = 0

    init(first: Int, last: Int, step: Int) {
        self.first = first
        self.last = last
        self.step = step
    }

    static let none = KeyPositions(first: 0, last: 0, step: 0)
    static let one = KeyPositions(first: 1, last: 1, step: 1)
    static let all = KeyPositions(first: 1, last: -1, step: 1)

    /// Keys counted by the argument at `index`, after `destination` (a key at 1) if set.
    static func numkeys(at index: Int, destination: Bool = false) -> KeyPositions {
        var positions = destination ? KeyPositions.one : KeyPositions.none
        positions.numkeysIndex = index
        return positions
    }

    var hasKeys: Bool { first > 0 || numkeysIndex > 0 }

    /// The key positions in a call with `count` arguments (fixed positions only).
    func indices(argumentCount count: Int) -> [Int] {
        guard first > 0 else { return [] }
        let lastIndex = last < 0 ? count + last : last
        guard lastIndex >= first else { return [] }
        return Array(stride(from: first, through: min(lastIndex, count - 1), by: step))
    }

    /// The key positions in a call, numkeys keys included.
    func indices(_ args: Arguments) -> [Int] {
        var result = indices(argumentCount: numkeysIndex > 0 ? min(args.count, numkeysIndex) : args.count)
        if numkeysIndex > 0 && numkeysIndex < args.count, let n = Numbers.parseInt64(args[numkeysIndex]), n > 0 {
            let end = min(Int64(args.count), Int64(numkeysIndex) + 1 + n)
            result += Array((numkeysIndex + 1)..<Int(end))
        }
        return result
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
    /// EXEC, DISCARD, MULTI, WATCH, QUIT, RESET run at once inside MULTI; everything else is queued.
    let controlsTransaction: Bool
    /// INFO commandstats counters (the engine thread owns them).
    var stats = CommandStats()
    /// Inside MULTI, everything but EXEC, DISCARD, QUIT and RESET is refused when memory is full.
    var queuesUnderOOMCheck: Bool { !["exec", "discard", "quit", "reset"].contains(name) }
    /// What a RESP2 client in subscribed mode may still send.
    let allowedWhileSubscribed: Bool

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
        controlsTransaction = ["exec", "discard", "multi", "watch", "quit", "reset"].contains(name)
        allowedWhileSubscribed = ["subscribe", "ssubscribe", "psubscribe", "unsubscribe", "sunsubscribe", "punsubscribe",
                                  "ping", "quit", "reset"].contains(name)
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
