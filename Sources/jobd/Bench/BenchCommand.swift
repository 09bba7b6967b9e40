import JobdQueue
import JobdSystem
import Glibc

/// `jobd bench`: the dispatch core's numbers in one run on this machine
/// (issue #8): the rings alone, in-process dispatch with `noop` workers,
/// and LPUSH over TCP into a queue with `noop` workers against
/// redis-server's bare LPUSH, with the log off, everysec and always.
/// Each figure is the median of `--runs` runs; progress goes to stderr.
enum BenchCommand {
    struct Options {
        var runs = 3
        var jobs = 1_000_000
        var tcpJobs = 400_000
        var clients = 4
        var pipeline = 16
        var workers = 2
        var only: Set<String> = []
        var modes = DispatchMode.allCases
        /// Part 2's pool sizes.
        var poolSizes = [1, 2, 4]
    }

    static let usage = """
    jobd bench [--runs N] [--jobs N] [--tcp-jobs N] [--clients N] [--pipeline N] [--workers N] [--only ring,dispatch,tcp] [--dispatch spsc,mpmc] [--pool-sizes 1,2,4]
    """

    static func run(_ arguments: [String]) -> Int32 {
        var options = Options()
        var i = 0
        while i < arguments.count {
            let flag = arguments[i]
            guard i + 1 < arguments.count else { return fail("\(flag) needs a value\n\(usage)") }
            let value = arguments[i + 1]
            switch flag {
            case "--only": options.only = Set(value.split(separator: ",").map(String.init))
            case "--dispatch":
                let modes = value.split(separator: ",").map { DispatchMode(rawValue: String($0)) }
                guard !modes.isEmpty, !modes.contains(nil) else { return fail("--dispatch takes spsc, mpmc or spsc,mpmc") }
                options.modes = modes.map { $0! }
            case "--pool-sizes":
                let sizes = value.split(separator: ",").map { Int($0) ?? 0 }
                guard !sizes.isEmpty, sizes.allSatisfy({ (1...WorkerPoolSpec.maxConcurrency).contains($0) }) else {
                    return fail("--pool-sizes takes worker counts such as 1,2,4")
                }
                options.poolSizes = sizes
            case "--runs", "--jobs", "--tcp-jobs", "--clients", "--pipeline", "--workers":
                guard let n = Int(value), n > 0 else { return fail("\(flag) must be a positive integer") }
                switch flag {
                case "--runs": options.runs = n
                case "--jobs": options.jobs = n
                case "--tcp-jobs": options.tcpJobs = n
                case "--clients": options.clients = n
                case "--pipeline": options.pipeline = n
                default: options.workers = n
                }
            default: return fail("unknown option \(flag)\n\(usage)")
            }
            i += 2
        }
        var table = BenchTable()
        do {
            if options.only.isEmpty || options.only.contains("ring") { ring(options, &table) }
            if options.only.isEmpty || options.only.contains("dispatch") { try dispatch(options, &table) }
            if options.only.isEmpty || options.only.contains("tcp") { try tcp(options, &table) }
        } catch {
            return fail("bench failed: \(error)")
        }
        print(table.render())
        return 0
    }

    static func fail(_ text: String) -> Int32 {
        CommandLineTool.printError("jobd bench: \(text)")
        return 2
    }

    static func progress(_ text: String) { CommandLineTool.printError("  … \(text)") }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted[sorted.count / 2]
    }

    static func measure(_ what: String, runs: Int, _ body: () throws -> Double) rethrows -> Double {
        var values: [Double] = []
        for run in 1...runs {
            values.append(try body())
            progress("\(what): run \(run)/\(runs): \(BenchTable.rate(values.last!))")
        }
        return median(values)
    }

    static func ring(_ o: Options, _ table: inout BenchTable) {
        let items = 20_000_000
        table.section("1. rings alone (ops/s: one item pushed and popped)")
        let spsc = measure("SPSC 1P1C", runs: o.runs) { RingBenchmark.spsc(items: items, ringCapacity: 1024) }
        table.row("SPSC ring, 1 producer 1 consumer", BenchTable.rate(spsc), target: "≥ 50M", ratio: spsc / 50e6)
        let mpmc11 = measure("MPMC 1P1C", runs: o.runs) { RingBenchmark.mpmc(producers: 1, consumers: 1, items: items, ringCapacity: 1024) }
        table.row("MPMC ring, 1P1C", BenchTable.rate(mpmc11), target: "", ratio: nil)
        let mpmc22 = measure("MPMC 2P2C", runs: o.runs) { RingBenchmark.mpmc(producers: 2, consumers: 2, items: items, ringCapacity: 1024) }
        table.row("MPMC ring, 2P2C", BenchTable.rate(mpmc22), target: "", ratio: nil)
    }

    /// The modes' runs alternate, so that a noisy stretch of the machine
    /// does not land on one mode only.
    static func dispatch(_ o: Options, _ table: inout BenchTable) throws {
        table.section("2. in-process dispatch, noop handler (engine loop without network or log)")
        for workers in o.poolSizes {
            var results: [DispatchMode: [DispatchBenchmark.Result]] = [:]
            for run in 1...o.runs {
                for mode in o.modes {
                    let result = try DispatchBenchmark.run(workers: workers, jobs: o.jobs, mode: mode)
                    results[mode, default: []].append(result)
                    progress("dispatch, \(workers) worker(s), \(mode.label): run \(run)/\(o.runs): \(BenchTable.rate(result.jobsPerSecond))")
                }
            }
            for mode in o.modes {
                let runs = results[mode]!
                let rate = median(runs.map(\.jobsPerSecond))
                let p50 = median(runs.map(\.p50Micros)), p99 = median(runs.map(\.p99Micros))
                table.row("in-process noop, \(workers) worker(s) (\(mode.label)): jobs/s; enqueue→complete p50 \(BenchTable.micros(p50)), p99 \(BenchTable.micros(p99))",
                          BenchTable.rate(rate), target: "≥ 1M", ratio: rate / 1e6)
            }
        }
    }

    static func tcp(_ o: Options, _ table: inout BenchTable) throws {
        table.section("3-4. LPUSH over TCP (\(o.clients) clients, pipeline \(o.pipeline), 100-byte payloads) into a queue with \(o.workers) noop workers: completed jobs/s vs redis-server LPUSH/s")
        let hasRedis = BenchServer.redisAvailable()
        if !hasRedis { progress("redis-server not found: no reference column") }
        for fsync in ["no-log", "everysec", "always"] {
            var redisRate: Double?
            if hasRedis {
                redisRate = try measure("redis-server LPUSH, \(fsync)", runs: o.runs) { try redisLPUSH(o, fsync: fsync) }
            }
            for mode in o.modes {
                // The server reads it when it starts its pools (see DispatchMode.fromEnvironment).
                setenv("JOBD_DISPATCH", mode.rawValue, 1)
                let jobdRate = try measure("jobd, \(fsync), \(mode.label)", runs: o.runs) { try jobdEndToEnd(o, fsync: fsync) }
                table.row("jobd completed/s, log \(fsync), \(mode.label)" + (redisRate.map { " (redis LPUSH/s \(BenchTable.rate($0)))" } ?? ""),
                          BenchTable.rate(jobdRate), target: "≥ 0.8× redis", ratio: redisRate.map { jobdRate / $0 })
            }
            unsetenv("JOBD_DISPATCH")
        }
    }

    static func scratchDirectory() -> String {
        var template = Array("/tmp/jobd-bench-XXXXXX".utf8CString)
        let path = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        return path.map { String(cString: $0) } ?? "/tmp/jobd-bench-\(getpid())"
    }

    static func removeDirectory(_ path: String) {
        if let pid = try? BenchServer.spawn(["rm", "-rf", path]) {
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }

    /// Time from the first LPUSH until the workers have completed every job.
    static func jobdEndToEnd(_ o: Options, fsync: String) throws -> Double {
        let dir = scratchDirectory()
        defer { removeDirectory(dir) }
        let log = fsync == "no-log" ? ["--appendonly", "no"] : ["--appendonly", "yes", "--appendfsync", fsync]
        let server = try BenchServer.jobd(port: BenchServer.freePort(), dir: dir,
                                          flags: log + ["--worker", "bench noop concurrency \(o.workers)"])
        defer { server.stop() }
        let watcher = try RESPConnection(port: server.port)
        let started = Clock.monotonicNanos()
        _ = try LoadGenerator.lpush(port: server.port, queue: "bench", total: o.tcpJobs, clients: o.clients,
                                    pipeline: o.pipeline, payloadSize: 100)
        let total = (o.tcpJobs + o.clients - 1) / o.clients * o.clients
        while try server.infoField(watcher, section: "jobs", "total_jobs_completed") < total { usleep(2000) }
        return Double(total) / (Double(Clock.monotonicNanos() - started) / 1e9)
    }

    static func redisLPUSH(_ o: Options, fsync: String) throws -> Double {
        let dir = scratchDirectory()
        defer { removeDirectory(dir) }
        let server = try BenchServer.redis(port: BenchServer.freePort(), dir: dir, appendFsync: fsync == "no-log" ? nil : fsync)
        defer { server.stop() }
        return try LoadGenerator.lpush(port: server.port, queue: "bench", total: o.tcpJobs, clients: o.clients,
                                       pipeline: o.pipeline, payloadSize: 100)
    }
}

extension DispatchMode {
    var label: String {
        switch self {
        case .spscPerWorker: "SPSC per worker"
        case .mpmcShared: "MPMC shared"
        }
    }
}

/// The final table: one row per measure, with its target and the ratio to it.
struct BenchTable {
    private var lines: [String] = []

    mutating func section(_ title: String) {
        lines.append("")
        lines.append(title)
        CommandLineTool.printError(title)
    }

    mutating func row(_ what: String, _ value: String, target: String, ratio: Double?) {
        let ratioText = ratio.map { String(format2($0)) + "×" } ?? ""
        lines.append("  " + pad(what, 106) + pad(value, 12) + pad(target, 14) + ratioText)
    }

    func render() -> String {
        (["jobd bench (median of runs; ratio = value / target, or jobd / redis-server)",
          "  " + pad("measure", 106) + pad("value", 12) + pad("target", 14) + "ratio"] + lines).joined(separator: "\n")
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    static func rate(_ value: Double) -> String {
        value >= 1e6 ? "\(format2(value / 1e6))M/s" : value >= 1e3 ? "\(format2(value / 1e3))k/s" : "\(format2(value))/s"
    }

    static func micros(_ value: Double) -> String { value >= 1000 ? "\(format2(value / 1000)) ms" : "\(format2(value)) µs" }
}
