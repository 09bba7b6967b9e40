import Testing
#if canImport(Glibc)
import Glibc
#endif
import CJobdSystem
@testable import JobdQueue
import JobdSystem
import Synchronization

// MARK: - Helpers

private func b(_ s: String) -> [UInt8] { Array(s.utf8) }
private func str(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

private func millisSince(_ start: Int64) -> Int64 { (Clock.monotonicNanos() - start) / 1_000_000 }

private func run(_ runner: ProcessRunner, _ path: String, _ arguments: [String] = [], input: [UInt8] = [],
                 environment: [String] = [], timeoutMillis: Int64 = 20_000,
                 isCanceled: () -> Bool = { false }) -> ProcessOutcome {
    input.withUnsafeBytes {
        runner.run(path: path, arguments: arguments, environment: environment, input: $0,
                   timeoutMillis: timeoutMillis, isCanceled: isCanceled)
    }
}

private func sh(_ runner: ProcessRunner, _ script: String, input: [UInt8] = [], timeoutMillis: Int64 = 20_000,
                isCanceled: () -> Bool = { false }) -> ProcessOutcome {
    run(runner, "/bin/sh", ["-c", script], input: input, timeoutMillis: timeoutMillis, isCanceled: isCanceled)
}

/// Deterministic bytes, all 256 values, so a reordering or a lost chunk shows.
private func payload(_ count: Int) -> [UInt8] {
    var state: UInt64 = 0x1234_5678
    return (0..<count).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return UInt8(truncatingIfNeeded: state >> 33)
    }
}

private final class Box<T>: @unchecked Sendable { var value: T? }

/// Runs `body` on a thread of its own with `blocked` signals blocked, as jobd's
/// worker threads have SIGTERM/SIGINT/SIGHUP blocked (the mask must not leak
/// into a thread of the test runner's pool).
private func onOwnThread<T>(blocking blocked: [Int32] = [], _ body: @escaping @Sendable () -> T) throws -> T {
    let box = Box<T>()
    let thread = try Thread(name: "runner-test") {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in blocked { sigaddset(&set, signal) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        box.value = body()
    }
    thread.join()
    return box.value!
}

/// True once `pid` no longer runs (gone, or a zombie waiting for init); waits up to 2 s.
private func processEnds(_ pid: pid_t) -> Bool {
    for _ in 0..<200 {
        guard let stat = FileDescriptor.readTextFile("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else {
            return true
        }
        if stat[close...].dropFirst(2).first == "Z" { return true }
        usleep(10_000)
    }
    return false
}

/// The child was reaped by the runner: it is no longer a child of this process.
private func wasReaped(_ pid: pid_t) -> Bool {
    var status: Int32 = 0
    return pid > 0 && waitpid(pid, &status, WNOHANG) == -1 && cjobd_errno() == ECHILD
}

/// Entries of /proc/self/fd that are pipes or pidfds: what a run opens. Other
/// kinds are left out because, in a full `swift test`, suites of other modules
/// run in this same process at the same time and open sockets and files.
private func pipeAndPidfdCount() -> Int {
    guard let dir = opendir("/proc/self/fd") else { return -1 }
    defer { closedir(dir) }
    var count = 0
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        var target = [CChar](repeating: 0, count: 256)
        let n = readlink("/proc/self/fd/\(name)", &target, 255)
        guard n > 0 else { continue }
        let text = String(decoding: target[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if text.hasPrefix("pipe:") || text.contains("pidfd") { count += 1 }
    }
    return count
}

/// A file that exists but may not be executed.
private func nonExecutableFile() -> String {
    var template = Array("/tmp/jobd-runner-test-XXXXXX".utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    if fd >= 0 { FileDescriptor.close(fd) }
    return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

// MARK: - Tests

@Suite(.serialized) struct ProcessRunnerTests {
    @Test func runsAProgramWithItsArguments() {
        let outcome = run(ProcessRunner(), "/bin/echo", ["hello", "two words"])
        #expect(outcome.ending == .exited(0))
        #expect(outcome.succeeded)
        #expect(str(outcome.stdout) == "hello two words\n")
        #expect(!outcome.stdoutTruncated)
        #expect(outcome.errorText.isEmpty)
    }

    @Test func aBareNameIsSearchedInPATH() {
        let outcome = run(ProcessRunner(), "echo", ["found"])
        #expect(outcome.ending == .exited(0))
        #expect(str(outcome.stdout) == "found\n")
    }

    @Test func fourMiBThroughCatComeBackIdentical() {
        let data = payload(4 << 20)
        let outcome = run(ProcessRunner(stdoutCap: 8 << 20), "/bin/cat", input: data)
        #expect(outcome.ending == .exited(0))
        #expect(!outcome.stdoutTruncated)
        #expect(outcome.stdout.count == data.count)
        #expect(outcome.stdout == data)
    }

    @Test func stdoutIsCutAtTheCapWhileTheRunnerKeepsDraining() {
        let data = payload(4 << 20)
        let outcome = run(ProcessRunner(), "/bin/cat", input: data)
        #expect(outcome.ending == .exited(0), "cat must not block on a full pipe")
        #expect(outcome.stdoutTruncated)
        #expect(outcome.stdout.count == 1 << 20)
        #expect(outcome.stdout[...] == data[..<(1 << 20)])
    }

    @Test func aChildThatWritesMuchBeforeReadingStdinDoesNotDeadlock() {
        let outcome = sh(ProcessRunner(stdoutCap: 4 << 20), "head -c 2097152 /dev/zero; cat >/dev/null; echo end",
                         input: payload(2 << 20), timeoutMillis: 15_000)
        #expect(outcome.ending == .exited(0))
        #expect(outcome.stdout.count == (2 << 20) + 4)
        #expect(outcome.stdout.suffix(4) == b("end\n")[...])
    }

    @Test func aChildThatIgnoresItsInputStillSucceeds() {
        let runner = ProcessRunner()
        let exited = sh(runner, "echo done", input: payload(4 << 20))
        #expect(exited.ending == .exited(0))
        #expect(str(exited.stdout) == "done\n")
        let closed = sh(runner, "exec 0<&-; sleep 0.2; echo still here", input: payload(4 << 20))
        #expect(closed.ending == .exited(0))
        #expect(str(closed.stdout) == "still here\n")
    }

    @Test func emptyInputIsAnImmediateEndOfFile() {
        let outcome = run(ProcessRunner(), "/bin/cat", timeoutMillis: 5000)
        #expect(outcome.ending == .exited(0))
        #expect(outcome.stdout.isEmpty)
    }

    @Test func nonZeroExitReportsStatusAndStderrTail() {
        let outcome = sh(ProcessRunner(), "echo partial; echo oops >&2; exit 3")
        #expect(outcome.ending == .exited(3))
        #expect(!outcome.succeeded)
        #expect(str(outcome.stdout) == "partial\n")
        #expect(str(outcome.stderrTail) == "oops\n")
        #expect(str(outcome.errorText) == "exit status 3: oops")
        #expect(str(sh(ProcessRunner(), "exit 7").errorText) == "exit status 7")
    }

    @Test func stderrTailKeepsTheLastBytes() {
        let outcome = sh(ProcessRunner(stderrTailCap: 100),
                         "head -c 200000 /dev/zero | tr '\\0' a >&2; printf END >&2; exit 1")
        #expect(outcome.ending == .exited(1))
        #expect(str(outcome.stderrTail) == String(repeating: "a", count: 97) + "END")
        #expect(str(outcome.errorText) == "exit status 1: " + String(repeating: "a", count: 97) + "END")
        let none = sh(ProcessRunner(stderrTailCap: 0), "echo x >&2; exit 2")
        #expect(none.stderrTail.isEmpty)
        #expect(str(none.errorText) == "exit status 2")
    }

    @Test func deathBySignalIsReported() {
        let runner = ProcessRunner()
        let outcome = sh(runner, "kill -KILL $$")
        #expect(outcome.ending == .signaled(SIGKILL))
        #expect(str(outcome.errorText) == "killed by signal 9")
        #expect(wasReaped(runner.lastProcessID))
    }

    @Test func spawnFailuresNameThePathAndTheReason() {
        let runner = ProcessRunner()
        let missing = run(runner, "/nonexistent/x")
        #expect(missing.ending == .spawnFailed("/nonexistent/x: No such file or directory"))
        #expect(str(missing.errorText) == "exec failed: /nonexistent/x: No such file or directory")
        let bare = run(runner, "jobd-no-such-command")
        #expect(bare.ending == .spawnFailed("jobd-no-such-command: No such file or directory"))
        let file = nonExecutableFile()
        defer { unlink(file) }
        let denied = run(runner, file)
        #expect(denied.ending == .spawnFailed("\(file): Permission denied"))
        #expect(!denied.succeeded)
    }

    @Test func fiftyRunsIncludingFailuresLeakNoDescriptors() {
        let runner = ProcessRunner(killGraceMillis: 0)
        let file = nonExecutableFile()
        defer { unlink(file) }
        _ = run(runner, "/bin/true")  // first-use allocations out of the way
        let before = pipeAndPidfdCount()
        for i in 0..<50 {
            switch i % 5 {
            case 0: _ = run(runner, "/bin/echo", ["x"])
            case 1: _ = run(runner, "/nonexistent/x")
            case 2: _ = run(runner, file)
            case 3: _ = sh(runner, "echo err >&2; exit 3", input: payload(100_000))
            default: _ = sh(runner, "sleep 10", timeoutMillis: 20)
            }
        }
        #expect(pipeAndPidfdCount() == before)
        #expect(before >= 0)
    }

    @Test func theChildIsReapedAndLeadsItsOwnProcessGroup() {
        let runner = ProcessRunner()
        let outcome = sh(runner, "echo $$ $(cut -d' ' -f5 /proc/$$/stat)")
        let fields = str(outcome.stdout).split(separator: " ").map { Int32($0.trimmingSuffixNewline) }
        #expect(fields.count == 2)
        #expect(fields.first == runner.lastProcessID)
        #expect(fields.last == runner.lastProcessID, "pgid = pid: the child leads a new group")
        #expect(runner.lastProcessID != getpgrp())
        #expect(wasReaped(runner.lastProcessID))
    }

    @Test func theChildStartsWithNoBlockedSignalsAndDefaultDispositions() throws {
        // This thread blocks what jobd blocks; SIGPIPE is ignored process-wide (the runner does it).
        let (endings, status) = try onOwnThread(blocking: [SIGTERM, SIGINT, SIGHUP]) { () -> ([ProcessOutcome.Ending], String) in
            let runner = ProcessRunner()
            // dash clears its signal mask at startup, so the mask is read by grep itself.
            let status = str(run(runner, "/bin/grep", ["^Sig\\(Blk\\|Ign\\)", "/proc/self/status"]).stdout)
            return (["TERM", "INT", "HUP", "PIPE"].map { sh(runner, "kill -\($0) $$; sleep 3").ending }, status)
        }
        #expect(endings == [.signaled(SIGTERM), .signaled(SIGINT), .signaled(SIGHUP), .signaled(SIGPIPE)])
        let masks = Dictionary(uniqueKeysWithValues: status.split(separator: "\n").map { line in
            let parts = line.split(separator: ":")
            return (String(parts[0]), UInt64(parts[1].trimmingPrefix(while: { $0 == "\t" || $0 == " " }), radix: 16) ?? .max)
        })
        let shutdownAndPipe: UInt64 = 1 << (SIGTERM - 1) | 1 << (SIGINT - 1) | 1 << (SIGHUP - 1) | 1 << (SIGPIPE - 1)
        #expect(masks["SigBlk"] == 0, "\(status)")
        #expect(masks["SigIgn"].map { $0 & shutdownAndPipe } == 0, "\(status)")
    }

    @Test func aSignalIgnoredByJobdIsAtDefaultInTheChild() {
        let previous = signal(SIGHUP, SIG_IGN)
        defer { signal(SIGHUP, previous) }
        #expect(sh(ProcessRunner(), "kill -HUP $$; sleep 3").ending == .signaled(SIGHUP))
    }

    @Test func timeoutTerminatesTheWholeGroup() throws {
        let (outcome, elapsed, pid) = try onOwnThread(blocking: [SIGTERM, SIGINT, SIGHUP]) { () -> (ProcessOutcome, Int64, pid_t) in
            let runner = ProcessRunner(killGraceMillis: 20_000)
            let start = Clock.monotonicNanos()
            let outcome = sh(runner, "sleep 30 & echo $!; sleep 30", timeoutMillis: 300)
            return (outcome, millisSince(start), runner.lastProcessID)
        }
        // dash unblocks signals itself; a program that does not must start unblocked too.
        let (direct, directElapsed) = try onOwnThread(blocking: [SIGTERM]) { () -> (ProcessOutcome.Ending, Int64) in
            let start = Clock.monotonicNanos()
            return (run(ProcessRunner(killGraceMillis: 20_000), "/bin/sleep", ["30"], timeoutMillis: 300).ending,
                    millisSince(start))
        }
        #expect(direct == .timedOut)
        #expect(directElapsed < 5000, "\(directElapsed) ms")
        #expect(outcome.ending == .timedOut)
        #expect(str(outcome.errorText) == "timed out after 300 ms")
        #expect(elapsed >= 300 && elapsed < 5000, "SIGTERM, not the SIGKILL 20 s later, ended it (\(elapsed) ms)")
        #expect(wasReaped(pid))
        let grandchild = pid_t(str(outcome.stdout).trimmingSuffixNewline) ?? 0
        #expect(grandchild > 0 && processEnds(grandchild), "the background sleep is in the group")
    }

    @Test func aChildIgnoringSIGTERMIsKilledAfterTheGrace() {
        let runner = ProcessRunner(killGraceMillis: 200)
        let start = Clock.monotonicNanos()
        let outcome = sh(runner, "trap '' TERM; sleep 30 & echo $!; sleep 30", timeoutMillis: 300)
        let elapsed = millisSince(start)
        #expect(outcome.ending == .timedOut)
        #expect(elapsed >= 500 && elapsed < 2500, "\(elapsed) ms")
        #expect(wasReaped(runner.lastProcessID))
        let grandchild = pid_t(str(outcome.stdout).trimmingSuffixNewline) ?? 0
        #expect(grandchild > 0 && processEnds(grandchild))
    }

    @Test func cancelStopsTheProcessLikeATimeout() {
        let runner = ProcessRunner(killGraceMillis: 200)
        let start = Clock.monotonicNanos()
        let outcome = sh(runner, "trap '' TERM; sleep 30", timeoutMillis: 0) { millisSince(start) >= 150 }
        let elapsed = millisSince(start)
        #expect(outcome.ending == .canceled)
        #expect(str(outcome.errorText) == "canceled")
        #expect(elapsed >= 350 && elapsed < 2500, "\(elapsed) ms")
        #expect(wasReaped(runner.lastProcessID))
    }

    @Test func isCanceledIsPolledOftenButNotInABusyLoop() {
        let runner = ProcessRunner()
        // Pipes open all along, then pipes at EOF while the process still runs.
        for script in ["sleep 0.6", "exec >&- 2>&-; sleep 0.6"] {
            var calls: [Int64] = []
            let outcome = sh(runner, script, timeoutMillis: 0) {
                calls.append(Clock.monotonicNanos())
                return false
            }
            #expect(outcome.ending == .exited(0))
            // Ideally a check every 50 ms (12); the median, not the maximum, since a
            // loaded machine can stall this thread now and then.
            let gaps = zip(calls, calls.dropFirst()).map { ($1 - $0) / 1_000_000 }.sorted()
            let median = gaps.isEmpty ? Int64.max : gaps[gaps.count / 2]
            #expect(calls.count >= 5 && calls.count <= 40, "\(script): \(calls.count) checks")
            #expect(median <= 80, "\(script): \(median) ms between checks")
        }
    }

    @Test func whatTheLeaderLeavesRunningIsKilledWhenItExits() {
        let runner = ProcessRunner(killGraceMillis: 10_000)
        let start = Clock.monotonicNanos()
        let outcome = sh(runner, "sleep 30 & echo $!")
        #expect(outcome.ending == .exited(0))
        #expect(millisSince(start) < 3000, "not waiting for the background sleep's stdout")
        let grandchild = pid_t(str(outcome.stdout).trimmingSuffixNewline) ?? 0
        #expect(grandchild > 0 && processEnds(grandchild))
    }

    @Test func environmentIsInheritedWithOverrides() {
        let outcome = run(ProcessRunner(), "/usr/bin/env",
                          environment: ["PATH=/override/bin", "JOBD_RUNNER_X=1", "JOBD_RUNNER_X=2", "no-equals"])
        #expect(outcome.ending == .exited(0))
        let lines = str(outcome.stdout).split(separator: "\n").map(String.init)
        #expect(lines.filter { $0.hasPrefix("PATH=") } == ["PATH=/override/bin"])
        #expect(lines.filter { $0.hasPrefix("JOBD_RUNNER_X=") } == ["JOBD_RUNNER_X=2"])
        #expect(!lines.contains("no-equals"))
        var inherited: [String] = []
        if var cursor = cjobd_environ() {
            while let entry = cursor.pointee {
                inherited.append(String(cString: entry))
                cursor += 1
            }
        }
        let expected = inherited.filter { !$0.hasPrefix("PATH=") } + ["PATH=/override/bin", "JOBD_RUNNER_X=2"]
        #expect(lines.sorted() == expected.sorted())
    }

    @Test func withoutPidfdTheSameOutcomes() {
        let runner = ProcessRunner(killGraceMillis: 200)
        runner.usePidfd = false
        #expect(str(run(runner, "/bin/echo", ["a"]).stdout) == "a\n")
        #expect(sh(runner, "exit 4").ending == .exited(4))
        #expect(run(runner, "/bin/cat", input: payload(1 << 20)).stdout.count == 1 << 20)
        #expect(sh(runner, "trap '' TERM; sleep 30", timeoutMillis: 100).ending == .timedOut)
        #expect(wasReaped(runner.lastProcessID))
        var calls = 0
        let quiet = sh(runner, "exec >&- 2>&-; sleep 0.4", timeoutMillis: 0) {
            calls += 1
            return false
        }
        #expect(quiet.ending == .exited(0))
        #expect(calls <= 30, "\(calls) wake-ups")
    }

    @Test func eightThreadsEachWithARunner() throws {
        let failures = Mutex<Int>(0)
        var threads: [Thread] = []
        for t in 0..<8 {
            threads.append(try Thread(name: "runner-\(t)") {
                let runner = ProcessRunner()
                for i in 0..<20 {
                    let outcome = run(runner, "/bin/echo", ["\(t)", "\(i)"])
                    if outcome.ending != .exited(0) || str(outcome.stdout) != "\(t) \(i)\n" { failures.withLock { $0 += 1 } }
                }
            })
        }
        for thread in threads { thread.join() }
        #expect(failures.withLock { $0 } == 0)
    }

    @Test func errorTextForEveryEnding() {
        func text(_ ending: ProcessOutcome.Ending, _ tail: String = "") -> String {
            str(ProcessOutcome.errorText(for: ending, timeoutMillis: 500, stderrTail: b(tail)))
        }
        #expect(text(.exited(0), "noise") == "")
        #expect(text(.exited(3), "bad input\r\n\n") == "exit status 3: bad input")
        #expect(text(.exited(3), "\n") == "exit status 3")
        #expect(text(.signaled(9)) == "killed by signal 9")
        #expect(text(.timedOut) == "timed out after 500 ms")
        #expect(text(.canceled) == "canceled")
        #expect(text(.spawnFailed("/x/y: No such file or directory")) == "exec failed: /x/y: No such file or directory")
    }
}

private extension StringProtocol {
    var trimmingSuffixNewline: String {
        var s = String(self)
        while s.last == "\n" { s.removeLast() }
        return s
    }
}

