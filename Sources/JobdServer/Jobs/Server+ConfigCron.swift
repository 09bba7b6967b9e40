import JobdQueue
import JobdSystem

/// `cron` lines of the config file. They are applied once the log is
/// loaded, through CRON.ADD, in database 0. An entry already the same
/// (spec, queue, payload, options) is left alone, so its last run, and the
/// one missed run during downtime, survive a restart. Entries added with
/// CRON.ADD at runtime are not touched; removing a line from the file does
/// not delete its entry (CRON.DEL does).
extension Server {
    func applyConfigCron() {
        for words in config.cronEntries {
            let name = Array(words[0].utf8)
            if let entry = jobs.cron.entries[name], entry.database == 0, entry.schedule.source == words[1],
               entry.request.queue == Array(words[2].utf8), entry.request.payload == Array(words[3].utf8),
               entry.optionWords == words.dropFirst(4).map({ Array($0.utf8) }) {
                continue
            }
            let reply = command(["CRON.ADD"] + words.map { ScriptWord.raw(Array($0.utf8)) })
            if case let .string(message)? = reply["error"] {
                Log.warning("cron '\(words[0])' from the config file: \(message)")
            } else {
                Log.notice("cron '\(words[0])' from the config file: \(words[1]) -> \(words[2])")
            }
        }
    }
}
