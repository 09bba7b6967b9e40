import CJobdSystem
import Glibc
import JobdSystem

/// Runs one external process at a time for the `exec` handler of an in-process
/// worker. One per worker thread, reused for every job that thread runs: the
/// spawn attributes, the read buffer and the pointer arrays are kept.
///
/// The child is the leader of its own process group, and the job is that
/// group: timeouts and cancels signal the group, and when the leader ends,
/// whatever it left behind in the group is killed, so a job cannot leave
/// processes running after JOB.ACK/JOB.FAIL.
public final class ProcessRunner {
    let stdoutCap: Int
    let stderrTailCap: Int
    let killGraceMillis: Int64

    /// Process id of the last child spawned (tests check it was reaped and its group is gone).
    internal private(set) var lastProcessID: pid_t = 0
    /// Tests turn this off to exercise the path for kernels or seccomp profiles without pidfd_open.
    internal var usePidfd = true

    /// The same for every child, so built once: own process group, empty signal
    /// mask, default dispositions.
    private let attributes: UnsafeMutablePointer<posix_spawnattr_t>
    private let scratch: UnsafeMutableRawBufferPointer
    private var pollSet: [pollfd] = []
    /// argv and envp for posix_spawn: strdup'd C strings, freed right after the spawn.
    private var argvPointers: [UnsafeMutablePointer<CChar>?] = []
    private var envPointers: [UnsafeMutablePointer<CChar>?] = []

    /// The longest poll sleep while the process runs: isCanceled must be seen within 50 ms.
    private static let cancelCheckNanos: Int64 = 50_000_000
    /// How long to keep reading after the leader ended and its group was killed: only
    /// a descendant that left the group (setsid) can keep the pipes open that long.
    private static let minimumDrainMillis: Int64 = 100

    public init(stdoutCap: Int = 1 << 20, stderrTailCap: Int = 4096, killGraceMillis: Int64 = 2000) {
        self.stdoutCap = max(stdoutCap, 0)
        self.stderrTailCap = max(stderrTailCap, 0)
        self.killGraceMillis = max(killGraceMillis, 0)
        // A child that exits without reading its stdin makes our write fail with
        // EPIPE; the signal must not end jobd. `jobd serve` ignores SIGPIPE already
        // (ShutdownSignals); this covers any other host of a runner, such as tests.
        ShutdownSignals.ignoreBrokenPipe()
        scratch = .allocate(byteCount: 65536, alignment: 16)
        attributes = .allocate(capacity: 1)
        precondition(posix_spawnattr_init(attributes) == 0, "posix_spawnattr_init")
        // jobd blocks SIGTERM/SIGINT/SIGHUP in every thread (they arrive on a
        // signalfd) and the mask survives exec: the child must start unblocked.
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(attributes, &mask)
        // Ignored signals stay ignored across exec (handled ones are reset by exec
        // anyway): SIGPIPE is ignored in jobd, and a child ignoring it would spin
        // on EPIPE instead of dying in a pipeline.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM, SIGXFSZ] {
            sigaddset(&defaults, signal)
        }
        posix_spawnattr_setsigdefault(attributes, &defaults)
        // pgid 0: the child leads a new group, so kill(-pid) reaches it and all it starts.
        posix_spawnattr_setpgroup(attributes, 0)
        let flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        posix_spawnattr_setflags(attributes, Int16(flags))
    }

    deinit {
        posix_spawnattr_destroy(attributes)
        attributes.deallocate()
        scratch.deallocate()
    }

    /// Runs `path` with `arguments` (argv[1...]; argv[0] = path), the inherited environment plus `environment`
    /// ("KEY=value" strings, overriding inherited ones of the same key), writing `input` to its stdin and then
    /// closing stdin. Blocks the calling thread until the process ends. `timeoutMillis` 0 = no timeout.
    /// `isCanceled` is polled at least every 50 ms while the process runs.
    public func run(path: String, arguments: [String], environment: [String], input: UnsafeRawBufferPointer,
                    timeoutMillis: Int64, isCanceled: () -> Bool) -> ProcessOutcome {
        let start = Clock.monotonicNanos()
        let child: SpawnedChild
        switch spawn(path: path, arguments: arguments, environment: environment) {
        case .failed(let reason):
            let ending = ProcessOutcome.Ending.spawnFailed(reason)
            return ProcessOutcome(ending: ending,
                                  errorText: ProcessOutcome.errorText(for: ending, timeoutMillis: timeoutMillis, stderrTail: []))
        case .started(let started):
            child = started
        }
        lastProcessID = child.pid
        var streams = ProcessStreams(child: child, stdoutCap: stdoutCap, stderrTailCap: stderrTailCap)
        if input.count == 0 { streams.closeInput() }
        let deadline = timeoutMillis > 0 ? Self.adding(millis: timeoutMillis, to: start) : Int64.max
        let stopReason = pump(&streams, pid: child.pid, input: input, deadline: deadline, isCanceled: isCanceled)
        streams.closeAll()
        let status = reap(child.pid)
        let ending = stopReason ?? status
        let tail = streams.finishedTail()
        return ProcessOutcome(ending: ending, stdout: streams.stdout, stdoutTruncated: streams.stdoutTruncated,
                              stderrTail: tail,
                              errorText: ProcessOutcome.errorText(for: ending, timeoutMillis: timeoutMillis, stderrTail: tail))
    }

    // MARK: - Waiting

    /// Feeds stdin and reads stdout/stderr until the leader has ended (not yet
    /// reaped) and the pipes are at EOF, signalling the group on timeout or
    /// cancel. Returns `.timedOut` or `.canceled` when it stopped the process.
    ///
    /// The leader's exit is seen through a pidfd polled with the pipes (Linux
    /// 5.3+): nothing wakes us but output, the exit, a deadline, or the 50 ms
    /// cancel check. Without pidfd_open (old kernels, some seccomp profiles)
    /// waitid(WNOWAIT) is asked after every wake-up instead, with poll sleeps
    /// growing from 1 ms to the 50 ms cap. Either way the leader stays a zombie
    /// until reap(), so its pid, which is the group id, cannot be reused while
    /// we still signal the group.
    private func pump(_ streams: inout ProcessStreams, pid: pid_t, input: UnsafeRawBufferPointer, deadline: Int64,
                      isCanceled: () -> Bool) -> ProcessOutcome.Ending? {
        let pidfd = usePidfd ? cjobd_pidfd_open(pid) : -1
        defer { if pidfd >= 0 { FileDescriptor.close(pidfd) } }
        var stopReason: ProcessOutcome.Ending?
        var killAt = Int64.max, drainUntil = Int64.max
        var leaderEnded = false
        var exitCheckNanos: Int64 = 1_000_000  // without a pidfd
        while true {
            let now = Clock.monotonicNanos()
            if leaderEnded {
                if !streams.hasOpenOutput || now >= drainUntil { return stopReason }
            } else {
                if stopReason == nil {
                    if isCanceled() { stopReason = .canceled } else if now >= deadline { stopReason = .timedOut }
                    if stopReason != nil {
                        kill(-pid, SIGTERM)
                        killAt = Self.adding(millis: killGraceMillis, to: now)
                        streams.closeInput()
                    }
                }
                if now >= killAt {
                    kill(-pid, SIGKILL)
                    killAt = .max
                }
            }

            pollSet.removeAll(keepingCapacity: true)
            let inputSlot = streams.stdin >= 0 ? add(streams.stdin, events: POLLOUT) : -1
            let stdoutSlot = streams.stdoutFD >= 0 ? add(streams.stdoutFD, events: POLLIN) : -1
            let stderrSlot = streams.stderrFD >= 0 ? add(streams.stderrFD, events: POLLIN) : -1
            let pidSlot = !leaderEnded && pidfd >= 0 ? add(pidfd, events: POLLIN) : -1
            var wakeAt = leaderEnded ? drainUntil : killAt
            if !leaderEnded {
                if stopReason == nil { wakeAt = min(wakeAt, deadline, now + Self.cancelCheckNanos) }
                if pidfd < 0 {
                    // Most processes exit right after closing their output: look again
                    // after 1 ms, then back off to the 50 ms of the cancel check.
                    wakeAt = min(wakeAt, now + exitCheckNanos)
                    exitCheckNanos = min(exitCheckNanos * 2, Self.cancelCheckNanos)
                }
            }
            // Rounded up: waking just before the deadline would spin until it passes.
            let timeout = Int32(clamping: (max(wakeAt - now, 0) + 999_999) / 1_000_000)
            let ready = pollSet.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), timeout) }
            if ready > 0 { exitCheckNanos = 1_000_000 }
            if ready < 0 {
                if cjobd_errno() == EINTR { continue }
                // Cannot watch the process any more (ENOMEM): end it rather than hang.
                kill(-pid, SIGKILL)
                return stopReason
            }
            let wake = Int16(POLLIN | POLLOUT | POLLHUP | POLLERR)
            if inputSlot >= 0, pollSet[inputSlot].revents & wake != 0 { streams.writeInput(input) }
            if stdoutSlot >= 0, pollSet[stdoutSlot].revents & wake != 0 { streams.readStdout(into: scratch) }
            if stderrSlot >= 0, pollSet[stderrSlot].revents & wake != 0 { streams.readStderr(into: scratch) }
            if !leaderEnded {
                let ended = pidSlot >= 0 ? pollSet[pidSlot].revents != 0 : cjobd_child_ended_nowait(pid) != 0
                if ended {
                    leaderEnded = true
                    // The job is the group: kill what the leader left running, which also
                    // closes the pipe ends those processes hold, so EOF comes at once.
                    kill(-pid, SIGKILL)
                    streams.closeInput()
                    drainUntil = Self.adding(millis: max(killGraceMillis, Self.minimumDrainMillis),
                                             to: Clock.monotonicNanos())
                }
            }
        }
    }

    private func add(_ fd: Int32, events: Int32) -> Int {
        pollSet.append(pollfd(fd: fd, events: Int16(events), revents: 0))
        return pollSet.count - 1
    }

    /// waitpid on this child only: other runners reap their own children in other threads.
    private func reap(_ pid: pid_t) -> ProcessOutcome.Ending {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            if cjobd_errno() == EINTR { continue }
            // Only if something else reaped it (SIGCHLD ignored, wait(-1) elsewhere):
            // the status is lost; -1 is no status a process can exit with.
            return .exited(-1)
        }
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
    }

    /// `base + millis` in nanoseconds, saturating instead of overflowing.
    private static func adding(millis: Int64, to base: Int64) -> Int64 {
        let (nanos, overflow) = millis.multipliedReportingOverflow(by: 1_000_000)
        if overflow { return .max }
        let (sum, overflow2) = base.addingReportingOverflow(nanos)
        return overflow2 ? .max : sum
    }

    // MARK: - Spawning

    private enum SpawnResult {
        case started(SpawnedChild)
        case failed(String)
    }

    private func spawn(path: String, arguments: [String], environment: [String]) -> SpawnResult {
        // [stdin read, stdin write, stdout read, stdout write, stderr read, stderr write];
        // all close-on-exec, so no other child spawned meanwhile by another thread inherits them.
        var fds: [Int32] = [-1, -1, -1, -1, -1, -1]
        func fail(_ what: String, _ err: Int32) -> SpawnResult {
            for fd in fds where fd >= 0 { FileDescriptor.close(fd) }
            return .failed("\(what): \(String(cString: strerror(err)))")
        }
        for pipe in 0..<3 {
            var pair: [Int32] = [-1, -1]
            let rc = pair.withUnsafeMutableBufferPointer { cjobd_pipe_cloexec($0.baseAddress) }
            if rc != 0 { return fail("pipe", cjobd_errno()) }
            fds[2 * pipe] = pair[0]
            fds[2 * pipe + 1] = pair[1]
        }
        // If jobd runs with 0, 1 or 2 closed, a pipe end can land there and one
        // dup2 below would overwrite another; keep every end at 3 or above.
        for i in fds.indices where fds[i] < 3 {
            let moved = fcntl(fds[i], F_DUPFD_CLOEXEC, 3)
            if moved < 0 { return fail("fcntl", cjobd_errno()) }
            FileDescriptor.close(fds[i])
            fds[i] = moved
        }
        do {
            for i in [1, 2, 4] { try FileDescriptor.setNonBlocking(fds[i]) }
        } catch let error as SystemError {
            return fail(error.call, error.errno)
        } catch {
            return fail("fcntl", EINVAL)
        }

        var actions = posix_spawn_file_actions_t()
        guard posix_spawn_file_actions_init(&actions) == 0 else { return fail("posix_spawn", ENOMEM) }
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (fd, target) in [(fds[0], Int32(0)), (fds[3], 1), (fds[5], 2)] {
            let rc = posix_spawn_file_actions_adddup2(&actions, fd, target)
            if rc != 0 { return fail("posix_spawn", rc) }
        }

        buildArgv(path: path, arguments: arguments)
        buildEnvironment(overrides: environment)
        var pid: pid_t = 0
        // Both arrays end with the nil terminator, so they are never empty.
        let rc = argvPointers.withUnsafeBufferPointer { argv in
            envPointers.withUnsafeBufferPointer { envp in
                // posix_spawnp searches PATH, which a path with a '/' must not do.
                path.contains("/")
                    ? posix_spawn(&pid, path, &actions, attributes, argv.baseAddress!, envp.baseAddress!)
                    : posix_spawnp(&pid, path, &actions, attributes, argv.baseAddress!, envp.baseAddress!)
            }
        }
        freeCStrings(&argvPointers)
        freeCStrings(&envPointers)
        // The child has its copies (or there is no child); the parent keeps only its ends.
        for i in [0, 3, 5] {
            FileDescriptor.close(fds[i])
            fds[i] = -1
        }
        // glibc's posix_spawn waits for the exec (CLONE_VFORK) and returns its errno.
        if rc != 0 { return fail(path, rc) }
        return .started(SpawnedChild(pid: pid, stdin: fds[1], stdout: fds[2], stderr: fds[4]))
    }

    private func buildArgv(path: String, arguments: [String]) {
        argvPointers.append(Self.copy(path))
        for argument in arguments { argvPointers.append(Self.copy(argument)) }
        argvPointers.append(nil)
    }

    /// envp = `environ` without the keys `overrides` sets, then `overrides`
    /// (the last one of a key wins; entries without '=' are not environment
    /// entries and are skipped). Copied, since another thread's setenv could
    /// change `environ` while the child is being started.
    private func buildEnvironment(overrides: [String]) {
        var keys: [[UInt8]] = []
        var chosen: [String] = []
        for entry in overrides.reversed() {
            let bytes = Array(entry.utf8)
            guard let equals = bytes.firstIndex(of: UInt8(ascii: "=")), equals > 0 else { continue }
            let key = Array(bytes[..<equals])
            if keys.contains(key) { continue }
            keys.append(key)
            chosen.append(entry)
        }
        if var cursor = cjobd_environ() {
            while let entry = cursor.pointee {
                let keyLength = strchr(entry, Int32(UInt8(ascii: "="))).map { $0 - entry } ?? strlen(entry)
                let overridden = keys.contains { key in
                    key.count == keyLength && key.withUnsafeBytes { memcmp($0.baseAddress!, entry, keyLength) == 0 }
                }
                if !overridden { envPointers.append(Self.copy(entry)) }
                cursor += 1
            }
        }
        for entry in chosen.reversed() { envPointers.append(Self.copy(entry)) }
        envPointers.append(nil)
    }

    private static func copy(_ string: UnsafePointer<CChar>) -> UnsafeMutablePointer<CChar> {
        guard let copy = strdup(string) else { fatalError("out of memory") }
        return copy
    }

    private func freeCStrings(_ pointers: inout [UnsafeMutablePointer<CChar>?]) {
        for pointer in pointers { free(pointer) }
        pointers.removeAll(keepingCapacity: true)
    }
}
