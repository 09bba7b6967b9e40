/// The command line of one client subcommand, split into positional
/// arguments, its own options and the connection options (which become
/// `address`). Anything it cannot place is a `ClientError.usage`.
struct ClientArguments {
    static let connectionOptions: Set<String> = ["--host", "--port", "--socket", "--user", "--password", "--db"]

    private(set) var positionals: [String] = []
    private var values: [String: String] = [:]
    private var flags: Set<String> = []
    private(set) var help = false
    private(set) var address = ServerAddress()

    /// `--name value`, `--name=value` and lone flags, in any order among the
    /// positionals; `--` ends the options (for a payload that starts with `-`).
    init(_ words: [String], valueOptions: Set<String>, flagOptions: Set<String>, environmentURL: String?) throws {
        let takesValue = valueOptions.union(ClientArguments.connectionOptions)
        var i = 0
        var optionsEnded = false
        while i < words.count {
            let word = words[i]
            i += 1
            // "-" alone is a positional: enqueue's "read the payload from stdin".
            if optionsEnded || !word.hasPrefix("-") || word == "-" {
                positionals.append(word)
                continue
            }
            if word == "--" {
                optionsEnded = true
                continue
            }
            if word == "--help" || word == "-h" {
                help = true
                continue
            }
            var name = word, inlineValue: String?
            if let equals = word.firstIndex(of: "=") {
                name = String(word[..<equals])
                inlineValue = String(word[word.index(after: equals)...])
            }
            if takesValue.contains(name) {
                if let inlineValue {
                    values[name] = inlineValue
                } else {
                    guard i < words.count else { throw ClientError.usage("\(name) needs a value") }
                    values[name] = words[i]
                    i += 1
                }
            } else if flagOptions.contains(name) {
                guard inlineValue == nil else { throw ClientError.usage("\(name) takes no value") }
                flags.insert(name)
            } else {
                throw ClientError.usage("unknown option '\(name)'")
            }
        }
        if help { return }
        let connection = ServerAddress.Flags(host: values["--host"], port: values["--port"], socket: values["--socket"],
                                             user: values["--user"], password: values["--password"], database: values["--db"])
        address = try ServerAddress.resolve(environmentURL: environmentURL, flags: connection)
    }

    func value(_ name: String) -> String? { values[name] }

    func has(_ name: String) -> Bool { flags.contains(name) || values[name] != nil }

    /// Exactly `names.count` positionals, or a usage error naming the first missing one.
    func expectPositionals(_ names: String...) throws -> [String] {
        if positionals.count < names.count { throw ClientError.usage("missing \(names[positionals.count])") }
        if positionals.count > names.count {
            throw ClientError.usage("unexpected argument '\(positionals[names.count])'")
        }
        return positionals
    }

    /// An integer option in `range`, or nil when not given.
    func integer(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = values[name] else { return nil }
        guard let n = Int(text), range.contains(n) else {
            throw ClientError.usage("\(name) must be an integer from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
        }
        return n
    }

    /// A duration option (`250ms`, `30s`, `5m`, `2h`, `1d`, plain milliseconds) in ms, or nil when not given.
    func duration(_ name: String, allowZero: Bool = true) throws -> Int64? {
        guard let text = values[name] else { return nil }
        guard let ms = Durations.milliseconds(text), allowZero || ms > 0 else {
            throw ClientError.usage("\(name) must be a duration like 250ms, 30s, 5m, 2h, 1d or milliseconds\(allowZero ? "" : " above 0"), got '\(text)'")
        }
        return ms
    }
}
