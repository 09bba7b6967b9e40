import JobdRESP
import JobdStore
import JobdSystem

/// jobd has no Lua interpreter. The scripts that queue libraries send are
/// known by their SHA-1 and run natively (KnownScripts); for any other
/// script EVALSHA says NOSCRIPT (what a client expects for an unknown
/// script), SCRIPT EXISTS says it is not loaded, and EVAL and SCRIPT LOAD
/// give an error that says why.
enum ScriptingCommands {
    static let noLua = "ERR jobd does not run Lua scripts (only the known scripts of redis-py, Celery and RQ run natively): use MULTI/EXEC instead"

    /// EVAL, EVAL_RO (FCALL, FCALL_RO: no functions exist)
    static func eval(_ call: Call) {
        guard numkeysFits(call) else { return }
        guard call.spec.name.hasPrefix("eval"), let script = KnownScripts.bySHA[SHA1.hex(call.args[1])] else {
            return call.reply.error(noLua)
        }
        run(call, script, sha: SHA1.hex(call.args[1]))
    }

    /// EVALSHA, EVALSHA_RO
    static func evalsha(_ call: Call) {
        // Redis answers a malformed SHA before it looks at numkeys.
        guard call.args[1].count != 40 || numkeysFits(call) else { return }
        let sha = call.args.lowercased(1)
        guard let script = KnownScripts.bySHA[sha] else {
            return call.reply.error("NOSCRIPT No matching script. Please use EVAL.")
        }
        run(call, script, sha: sha)
    }

    /// Runs a known script with the call's keys and arguments (numkeys already checked).
    private static func run(_ call: Call, _ script: KnownScripts.Script, sha: String) {
        let numkeys = Int(Numbers.parseInt64(call.args[2]) ?? 0)
        let keys = (3..<(3 + numkeys)).map { call.args.bytes($0) }
        let argv = ((3 + numkeys)..<call.count).map { call.args.bytes($0) }
        guard keys.count >= script.keys, argv.count >= script.argv else {
            return call.reply.error("ERR \(script.name) (run natively by jobd) needs \(script.keys) keys and \(script.argv) arguments")
        }
        let context = ScriptContext(server: call.server, client: call.client, keys: keys, argv: argv)
        do {
            call.reply.value(try script.run(context))
        } catch {
            call.reply.error("\(error.message) script: \(sha), on @user_script.")
        }
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

    /// SCRIPT LOAD: a known script's SHA-1; anything else cannot run here.
    static func scriptLoad(_ call: Call) {
        let sha = SHA1.hex(call.args[2])
        guard KnownScripts.bySHA[sha] != nil else { return call.reply.error(noLua) }
        call.reply.bulk(sha)
    }

    /// SCRIPT EXISTS: the known scripts are always loaded.
    static func scriptExists(_ call: Call) {
        call.reply.arrayHeader(call.count - 2)
        for i in 2..<call.count { call.reply.integer(KnownScripts.bySHA[call.args.lowercased(i)] == nil ? 0 : 1) }
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
