import JobdRESP
import JobdStore
import JobdSystem

/// jobd has no Lua interpreter. Scripting commands answer so that client
/// libraries that use scripts only for optional features keep working:
/// EVALSHA says NOSCRIPT (what a client expects for an unknown script),
/// SCRIPT EXISTS says no script is loaded, and EVAL and SCRIPT LOAD — the
/// commands that would run or store code — give an error that says why.
enum ScriptingCommands {
    static let noLua = "ERR jobd does not run Lua scripts: use MULTI/EXEC, or the JOB.* commands for queue operations"

    /// EVAL, EVAL_RO, FCALL, FCALL_RO
    static func eval(_ call: Call) {
        guard numkeysFits(call) else { return }
        call.reply.error(noLua)
    }

    /// EVALSHA, EVALSHA_RO
    static func evalsha(_ call: Call) {
        // Redis answers a malformed SHA before it looks at numkeys.
        guard call.args[1].count != 40 || numkeysFits(call) else { return }
        call.reply.error("NOSCRIPT No matching script. Please use EVAL.")
    }

    /// The numkeys argument is checked first, with Redis' errors.
    private static func numkeysFits(_ call: Call) -> Bool {
        guard let numkeys = call.integer(2) else { return false }
        if numkeys > Int64(call.count - 3) {
            call.reply.error("ERR Number of keys can't be greater than number of args")
            return false
        }
        if numkeys < 0 {
            call.reply.error("ERR Number of keys can't be negative")
            return false
        }
        return true
    }

    static func scriptLoad(_ call: Call) { call.reply.error(noLua) }

    static func scriptExists(_ call: Call) {
        call.reply.arrayHeader(call.count - 2)
        for _ in 2..<call.count { call.reply.integer(0) }
    }

    /// SCRIPT FLUSH [ASYNC|SYNC]: there is nothing to flush.
    static func scriptFlush(_ call: Call) {
        if call.count > 3 || (call.count == 3 && !call.args.matches(2, "ASYNC") && !call.args.matches(2, "SYNC")) {
            return call.reply.error("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
        }
        call.reply.ok()
    }

    static func scriptKill(_ call: Call) { call.reply.error("NOTBUSY No scripts in execution right now.") }

    static func scriptHelp(_ call: Call) {
        HelpText.reply(call, command: "SCRIPT", lines: [
            "EXISTS <sha1> [<sha1> ...]", "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]", "    Flush the Lua scripts cache (jobd keeps none).",
            "KILL", "    Kill the currently executing Lua script.",
            "LOAD <script>", "    Load a script into the scripts cache (jobd runs no Lua: an error).",
        ])
    }
}
