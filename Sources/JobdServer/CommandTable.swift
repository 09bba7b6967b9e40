import JobdRESP

/// Finds a command by name without allocating: an open-addressing table
/// keyed by a case-insensitive hash of the name bytes.
final class CommandTable {
    private(set) var commands: [CommandSpec] = []
    private var slots: [Int32]
    private var mask: Int
    /// rename-command: commands clients may not call by their own name, and
    /// the new names they answer to. The log, scripts and the HTTP API keep
    /// the original names (the log must replay whatever the renames are).
    private var hiddenFromClients: [Bool] = []
    private var clientAliases: [String: Int] = [:]
    private(set) var hasRenames = false

    init(_ specs: [CommandSpec]) {
        var size = 64
        while size < specs.count * 4 { size *= 2 }
        slots = Array(repeating: -1, count: size)
        mask = size - 1
        for spec in specs { add(spec) }
    }

    private func add(_ spec: CommandSpec) {
        let bytes = Array(spec.name.utf8)
        precondition(find(bytes.withUnsafeBytes { CommandTable.hash($0) }, bytes) == nil, "duplicate command \(spec.name)")
        commands.append(spec)
        hiddenFromClients.append(false)
        var slot = Int(bytes.withUnsafeBytes { CommandTable.hash($0) }) & mask
        while slots[slot] >= 0 { slot = (slot + 1) & mask }
        slots[slot] = Int32(commands.count - 1)
    }

    /// FNV-1a over the lowercased bytes.
    @inline(__always)
    static func hash(_ name: UnsafeRawBufferPointer) -> UInt32 {
        var h: UInt32 = 2_166_136_261
        for byte in name { h = (h ^ UInt32(ASCII.lower(byte))) &* 16_777_619 }
        return h
    }

    private func find(_ hash: UInt32, _ name: [UInt8]) -> Int? {
        name.withUnsafeBytes { find(hash, $0) }
    }

    @inline(__always)
    private func find(_ hash: UInt32, _ name: UnsafeRawBufferPointer) -> Int? {
        var slot = Int(hash) & mask
        while true {
            let index = Int(slots[slot])
            if index < 0 { return nil }
            if ASCII.equalsIgnoringCase(name, commands[index].nameBytes) { return index }
            slot = (slot + 1) & mask
        }
    }

    /// The command named by `name`, case-insensitive.
    @inline(__always)
    func lookup(_ name: UnsafeRawBufferPointer) -> CommandSpec? {
        guard name.count <= 64, let index = find(CommandTable.hash(name), name) else { return nil }
        return commands[index]
    }

    /// A command or, as COMMAND INFO and DOCS take it, a subcommand named
    /// "container|sub" ("config|get"), in any case.
    func lookupIncludingSubcommands(_ name: UnsafeRawBufferPointer) -> CommandSpec? {
        guard let bar = name.firstIndex(of: UInt8(ascii: "|")) else { return lookup(name) }
        guard let container = lookup(UnsafeRawBufferPointer(rebasing: name[..<bar])) else { return nil }
        let sub = name[(bar + 1)...]
        return container.subcommands.first { $0.nameBytes.count == sub.count && zip($0.nameBytes, sub).allSatisfy { $0 == ASCII.lower($1) } }
    }

    func lookup(_ name: String) -> CommandSpec? {
        Array(name.utf8).withUnsafeBytes { lookup($0) }
    }

    /// The command a client means by `name`: as `lookup`, after rename-command.
    @inline(__always)
    func lookupForClient(_ name: UnsafeRawBufferPointer) -> CommandSpec? {
        guard hasRenames else { return lookup(name) }
        guard name.count <= 64 else { return nil }
        if let index = find(CommandTable.hash(name), name) { return hiddenFromClients[index] ? nil : commands[index] }
        let lowered = String(decoding: name.map(ASCII.lower), as: UTF8.self)
        return clientAliases[lowered].map { commands[$0] }
    }

    /// Applies rename-command lines: `newName` "" disables the command for clients.
    func rename(_ renames: [(original: String, newName: String)]) {
        for (original, newName) in renames {
            guard let index = Array(original.utf8).withUnsafeBytes({ find(CommandTable.hash($0), $0) }) else { continue }
            hiddenFromClients[index] = true
            if !newName.isEmpty { clientAliases[newName.lowercased()] = index }
            hasRenames = true
        }
    }
}

