import JobdSystem
import Glibc

/// SIGHUP (`systemctl reload jobd`): the config file the server was started
/// with is read again, with the command-line directives applied over it as
/// at start. What a restart would change is then applied in place:
///
/// - runtime-settable directives (those CONFIG SET accepts) take the file's
///   value, all or none (as CONFIG SET does); a value set with CONFIG SET
///   and not saved with CONFIG REWRITE goes back to the file's, as it would
///   at a restart;
/// - directives that only apply at start (port, dir, ...) and differ are
///   logged as needing a restart, and not applied;
/// - `worker` lines are reconciled with the running pools.
///
/// A file that cannot be read or has an error changes nothing: the server
/// keeps its settings, logs why, and tells systemd (`STATUS=reload failed`).
extension Server {
    struct ReloadError: Error, CustomStringConvertible {
        let description: String
    }

    func reloadConfiguration() {
        if shutdownRequested {
            Log.notice("Received SIGHUP while shutting down: not reloading")
            return
        }
        if loading {
            // READY=1 after the reload would tell systemd the start is over.
            Log.notice("Received SIGHUP while loading the append-only log: reloading once it is loaded")
            reloadWhenReady = true
            return
        }
        notifier.reloading()
        guard !configFile.isEmpty else {
            Log.notice("Received SIGHUP: started without a config file, nothing to reload")
            notifier.ready(status: "reloaded: no config file")
            return
        }
        Log.notice("Received SIGHUP: reloading the configuration from \(configFile)")
        do {
            let changes = try reload()
            let summary = changes.isEmpty ? "nothing changed" : changes.joined(separator: "; ")
            Log.notice("Configuration reloaded: \(summary)")
            notifier.ready(status: "reloaded: \(summary)")
        } catch {
            Log.warning("Configuration reload failed, the running settings are kept: \(error)")
            notifier.ready(status: "reload failed: \(error)")
        }
        nextStatusAt = Clock.monotonicNanos() + Server.statusIntervalNanos
    }

    /// Applies the file; returns a short description of each change.
    private func reload() throws(ReloadError) -> [String] {
        guard let text = FileDescriptor.readTextFile(configFile) else {
            throw ReloadError(description: "can't open config file '\(configFile)': \(String(cString: strerror(errno)))")
        }
        let fresh = ServerConfig()
        do {
            try ConfigLoader.apply(text, source: configFile, to: fresh)
            try ConfigLoader.apply(commandLineConfig, source: "the command line", to: fresh)
        } catch {
            throw ReloadError(description: "\(error.source), line \(error.line) '\(error.text)': \(error.reason)")
        }
        var changes: [String] = []
        var updates: [(ConfigDirective, String)] = []
        for directive in ConfigDirectives.all where !directive.repeatable {
            let value = directive.get(fresh), current = directive.get(config)
            guard value != current else { continue }
            guard directive.mutable else {
                Log.warning("'\(directive.name)' changed in \(configFile) but is only read at start: restart jobd to apply it (running with \(shown(directive, current)))")
                changes.append("\(directive.name) needs a restart")
                continue
            }
            updates.append((directive, value))
            changes.append("\(directive.name) \(shown(directive, current)) -> \(shown(directive, value))")
        }
        // All or nothing, as CONFIG SET: on a copy first, then on the live config.
        let trial = config.copy()
        for (directive, value) in updates {
            do {
                try directive.set(trial, [value])
            } catch {
                throw ReloadError(description: "\(directive.name): \(error)")
            }
        }
        for (directive, value) in updates { try? directive.set(config, [value]) }
        if !updates.isEmpty { configChanged() }
        changes += reconcileWorkerPools(fresh.workers)
        config.workers = config.workers.filter { if case .closure = $0.handler { true } else { false } } + fresh.workers
        // queue and cron lines: applied again as at start (what is unchanged stays as it is).
        config.queues = fresh.queues
        applyQueueSettings()
        config.cronEntries = fresh.cronEntries
        applyConfigCron()
        if fresh.renamedCommands.map({ "\($0.original) \($0.newName)" }) != config.renamedCommands.map({ "\($0.original) \($0.newName)" }) {
            Log.warning("'rename-command' lines changed in \(configFile) but are only read at start: restart jobd to apply them")
            changes.append("rename-command needs a restart")
        }
        return changes
    }

    /// A value for the log: never the password.
    private func shown(_ directive: ConfigDirective, _ value: String) -> String {
        directive.name == "requirepass" ? "(hidden)" : value.isEmpty ? "\"\"" : value
    }
}
