/// Command table rows for transactions, pub/sub and scripting (Redis 7.0's COMMAND INFO and DOCS).
extension CommandRegistry {
    static var transactions: [CommandSpec] { [
        CommandSpec("multi", arity: 1, flags: [.noScript, .loading, .stale, .fast, .allowBusy], group: "transactions",
                    since: "1.2.0",
                    summary: "Mark the start of a transaction block",
                    handler: TransactionCommands.multi),
        CommandSpec("exec", arity: 1, flags: [.noScript, .loading, .stale], group: "transactions",
                    since: "1.2.0",
                    complexity: "Depends on commands in the transaction",
                    summary: "Execute all commands issued after MULTI",
                    handler: TransactionCommands.exec),
        CommandSpec("discard", arity: 1, flags: [.noScript, .loading, .stale, .fast, .allowBusy], group: "transactions",
                    since: "2.0.0",
                    complexity: "O(N), when N is the number of queued commands",
                    summary: "Discard all commands issued after MULTI",
                    handler: TransactionCommands.discard),
        CommandSpec("watch", arity: -2, flags: [.noScript, .loading, .stale, .fast, .allowBusy], keys: .all, group: "transactions",
                    since: "2.2.0",
                    complexity: "O(1) for every key.",
                    summary: "Watch the given keys to determine execution of the MULTI/EXEC block",
                    syntax: "key [key ...]",
                    handler: TransactionCommands.watch),
        CommandSpec("unwatch", arity: 1, flags: [.noScript, .loading, .stale, .fast, .allowBusy], group: "transactions",
                    since: "2.2.0",
                    summary: "Forget about all watched keys",
                    handler: TransactionCommands.unwatch),
    ] }
}
