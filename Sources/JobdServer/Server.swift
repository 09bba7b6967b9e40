import JobdPersistence
import JobdQueue
import JobdRESP
import JobdStore
import JobdSystem

/// The engine: owns the keyspace and every client, and runs the epoll loop
/// on one thread. A turn of the loop reads and executes what clients sent,
/// serves clients blocked on keys that became ready, runs due timers, then
/// writes each client's replies with one write(2).
public final class Server {
    public let config: ServerConfig
    public let keyspace: Keyspace
    /// Job records, queue states and the timeline (JobdQueue).
    public let jobs: JobEngine
    /// Clients in JOB.RESULT WAIT, per job handle.
    var resultWaiters: [UInt64: [Client]] = [:]
    let commands: CommandTable
    let epoll: Epoll
    let signals: ShutdownSignals?
    /// Wakes the loop from other threads (AOF and workers).
    let wakeup: EventFD
    /// How in-process workers wake the loop, only when it may be asleep.
    let workerWake: EngineWake
    /// Shutdown: when waiting for running jobs began (monotonic ns; 0: not yet), and whether they were told to stop.
    var workersDrainStarted: Int64 = 0
    var workersCanceled = false

    var listeners: [Listener] = []
    /// Connections to the HTTP port (metrics, API, dashboard).
    var http = HTTPState()
    /// The client jobd runs commands as for itself (Server+InternalCommands.swift).
    var internalClientStorage: Client?
    /// Not reading from clients while held replies are over aof-wait-buffer-limit (LogBackpressure.swift).
    var readsPausedForLog = false
    let internalScratch = ByteBuffer(capacity: 4096)
    var clientsByFD: [Client?] = []
    var clientCount = 0
    var nextClientID: Int64 = 1
    /// Clients with replies to write at the end of this turn.
    var writeQueue: [Client] = []
    /// Clients unblocked this turn whose buffered commands must run.
    var unblockedQueue: [Client] = []
    /// Input is read here first; only partial commands get a buffer of their own.
    let sharedInput = ByteBuffer(capacity: 64 * 1024)
    let outputPool = BufferPool()
    let blocking = BlockingRegistry()
    /// The append-only log, when appendonly is on.
    public internal(set) var aof: AppendOnlyLog?
    /// True while the log is being replayed: nothing is logged then and
    /// commands without the `loading` flag get -LOADING.
    var loading = false
    /// Changes made so far (each logged change counts one).
    var dirty = 0
    /// Clients watching each key (WATCH).
    var watchers: [WatchedKey: [Client]] = [:]
    /// Inside EXEC: blocking commands answer at once instead of blocking.
    var executingTransaction = false
    var loader: LogLoader?
    /// Why the server stopped before serving (a damaged log), if it did.
    public internal(set) var startupFailure: String?
    /// Clients with replies held until the log is durable.
    var clientsWaitingForDurability: [Client] = []
    var lastLogErrorReport: Int64 = 0
    /// The log rewrite in progress, if any.
    var rewrite: LogRewriter?
    var rewriteStats = RewriteStats()
    /// Turns in which the batch was written while an fsync had been running for over 2 s.
    var delayedFsyncs = 0
    /// Monotonic ms since log writes wait for a stalled fsync (0: not waiting).
    var logWritePostponedSince: Int64 = 0
    var timeouts = DeadlineHeap<BlockTimeout>()
    var stats = Stats()

    let startedAtMillis: Int64
    let startedAtMonotonic: Int64
    let runID: String
    var nextCronAt: Int64 = 0
    var cronCount = 0
    public private(set) var isRunning = true
    var shutdownRequested = false
    var peakMemory = 0
    var requestLimits: RequestLimits
    /// client-output-buffer-limit normal, copied out of the config for the hot path.
    var normalOutputLimit: OutputBufferLimit
    var pubsubOutputLimit: OutputBufferLimit
    var pubsub = PubSubRegistry()
    var monitors: [Client] = []
    var slowLog: [SlowLogEntry] = []
    var nextSlowLogID = 0
    var slowLogThresholdTicks = UInt64.max
    /// Loop turns so far; memory is read at most once per turn (see Eviction.swift).
    var loopTurn = 0
    var memoryCheckedTurn = -1
    var memoryWasOver = false
    var usedMemoryEstimate = 0
    var evictionPool: [EvictionCandidate] = []
    var evictionsSinceSampling = 0
    /// Outputs smaller than this cannot be over any limit (skips the check).
    var outputLimitCheckFloor: Int
    /// The config file the server was started with (INFO, CONFIG REWRITE, SIGHUP reload).
    public var configFile = ""
    /// Directives given on the command line, as config text: a reload applies
    /// them over the file again, so they keep winning as they did at start.
    public var commandLineConfig = ""
    /// systemd's notify socket (Server+Systemd.swift); sends nothing outside systemd.
    var notifier = SystemdNotifier()
    /// Monotonic ns: next STATUS= summary, next watchdog ping (Int64.max: no watchdog).
    var nextStatusAt: Int64 = 0
    var nextWatchdogAt = Int64.max
    /// A SIGHUP arrived while the log was loading: reload once ready.
    var reloadWhenReady = false

    struct Listener {
        let fd: Int32
        let description: String
        let isHTTP: Bool
    }

    struct BlockTimeout {
        weak var client: Client?
        let serial: UInt64
    }

    static let listenerToken: UInt64 = 1 << 62
    static let signalToken: UInt64 = 1 << 61
    static let wakeToken: UInt64 = 1 << 60

    /// Creates the server and opens its listeners; throws if a port cannot be bound.
    public init(config: ServerConfig, handleSignals: Bool = true) throws {
        self.config = config
        keyspace = Keyspace(databaseCount: config.databases)
        jobs = JobEngine(keyspace: keyspace)
        commands = CommandTable(CommandRegistry.all)
        commands.rename(config.renamedCommands)
        epoll = try Epoll()
        signals = handleSignals ? try ShutdownSignals() : nil
        wakeup = try EventFD()
        workerWake = EngineWake(eventFD: wakeup)
        startedAtMillis = Clock.wallMillis()
        startedAtMonotonic = Clock.monotonicNanos()
        var generator = SystemRandomNumberGenerator()
        runID = (0..<40).map { _ in String(Int.random(in: 0..<16, using: &generator), radix: 16) }.joined()
        requestLimits = RequestLimits()
        requestLimits.maxBulkLength = config.protoMaxBulkLen
        normalOutputLimit = config.outputLimits[.normal]!
        pubsubOutputLimit = config.outputLimits[.pubsub]!
        slowLogThresholdTicks = Server.slowLogTicks(config)
        outputLimitCheckFloor = Server.checkFloor(normalOutputLimit)
        ShutdownSignals.ignoreBrokenPipe()
        applyMemoryPolicy()

        connectJobEngine()
        keyspace.onKeyAdded = { [unowned self] db, entry in self.keyAdded(db, entry) }
        // A key deleted because its TTL passed is deleted in the log too.
        keyspace.onExpire = { [unowned self] db, entry in
            self.rewrite?.preserve(entry, in: db)
            self.log(db.index) { e in e.begin(2); e.argument("DEL"); e.argument(entry.key) }
            entry.key.withUnsafeBytes { self.touch(database: db.index, key: $0) }
        }
        if config.appendOnly {
            aof = try AppendOnlyLog(dir: config.dir, directoryName: config.appendDirname, fileName: config.appendFilename,
                                    policy: config.appendFsync, engineWake: wakeup)
        }
        try openListeners()
        try openHTTPListeners()
        if let signals { try epoll.add(signals.fd, token: Server.signalToken, interest: .readable) }
        try epoll.add(wakeup.fd, token: Server.wakeToken, interest: .readable)
        stats.lastSampleTime = startedAtMillis
    }

    private func openListeners() throws {
        if config.port != 0 {
            for address in config.bind {
                let fd = try Socket.listenTCP(host: address, port: config.port, backlog: Int32(config.tcpBacklog))
                try addListener(fd, "\(address):\(config.port)")
            }
        }
        if !config.unixSocket.isEmpty {
            let fd = try Socket.listenUnix(path: config.unixSocket, mode: mode_t(config.unixSocketPerm),
                                           backlog: Int32(config.tcpBacklog))
            try addListener(fd, config.unixSocket)
        }
    }

    func addListener(_ fd: Int32, _ description: String, isHTTP: Bool = false) throws {
        try epoll.add(fd, token: Server.listenerToken | UInt64(listeners.count), interest: .readable)
        listeners.append(Listener(fd: fd, description: description, isHTTP: isHTTP))
    }

    static func checkFloor(_ limit: OutputBufferLimit) -> Int {
        let limits = [limit.hardBytes, limit.softBytes].filter { $0 > 0 }
        return limits.min() ?? Int.max
    }

    public var listeningDescriptions: [String] { listeners.map(\.description) }

    /// The TCP port actually bound (useful with `port 0`... which disables TCP; kept for tests).
    public var uptimeSeconds: Int64 { (Clock.monotonicNanos() - startedAtMonotonic) / 1_000_000_000 }

    // MARK: The loop

    /// Runs until SHUTDOWN or a termination signal. Call on the engine thread.
    public func run() {
        nextCronAt = Clock.monotonicNanos()
        if loader == nil { becameReady() }
        while isRunning {
            loopTurn &+= 1
            var timeout = loopTimeoutMillis()
            updateLogStall()
            if timeout > 0 && !workersAllowSleep() { timeout = 0 }
            epoll.wait(timeoutMillis: timeout) { event in
                handle(event)
            }
            if !jobs.pools.isEmpty { workerWake.awake() }
            afterEvents()
        }
        closeEverything()
    }

    /// Runs one turn of the loop with a zero timeout (tests drive the server this way).
    public func runOnce(timeoutMillis: Int32 = 0) {
        updateLogStall()
        epoll.wait(timeoutMillis: timeoutMillis) { event in handle(event) }
        afterEvents()
    }

    private func handle(_ event: Epoll.Event) {
        keyspace.now = Clock.wallMillis()
        let token = event.token
        if token & Server.httpToken != 0 {
            handleHTTPEvent(event)
        } else if token & Server.listenerToken != 0 {
            let listener = listeners[Int(token & 0xFFFF)]
            if listener.isHTTP { acceptHTTPConnections(from: listener.fd) } else { acceptClients(from: listener.fd) }
        } else if token == Server.signalToken {
            handleSignals()
        } else if token == Server.wakeToken {
            wakeup.drain()
            durabilityAdvanced()
        } else {
            let fd = Int(token & 0xFFFF_FFFF)
            guard fd < clientsByFD.count, let client = clientsByFD[fd],
                  Server.tokenTag(client.id) == token >> 32,
                  !client.closeNow else { return }
            if event.writable {
                writeOutput(client)
                if client.closeNow { return }
            }
            if event.readable || event.hangup { readFromClient(client) }
        }
    }

    /// What every turn does after handling events (Redis' beforeSleep).
    private func afterEvents() {
        keyspace.now = Clock.wallMillis()
        expireBlockTimeouts()
        let nowNanos = Clock.monotonicNanos()
        if nowNanos >= nextCronAt { cron() }
        if nowNanos >= nextWatchdogAt { pingWatchdog(now: nowNanos) }
        advanceJobs()
        serveWorkerPools()
        processUnblockedClients()
        if loader != nil { advanceLoading() }
        if rewrite != nil { advanceRewrite() }
        // The log first: no reply leaves before the writes it acknowledges are in the file.
        if writeLogBatch() { flushWrites() }
        checkHeldRepliesTotal()
        if shutdownRequested && workerPoolsStopped() { isRunning = false }
    }

    private func loopTimeoutMillis() -> Int32 {
        if !unblockedQueue.isEmpty || loader != nil { return 0 }
        // Shutting down with jobs still running: look again soon (workers wake the loop too).
        if shutdownRequested { return jobs.pools.isEmpty ? 0 : 10 }
        // While writes wait for a stalled fsync, look again soon.
        if logWritePostponedSince != 0 || (aof?.state.fsyncStartedMillis.load(ordering: .relaxed) ?? 0) != 0 { return 50 }
        let nowNanos = Clock.monotonicNanos()
        var timeout = max(0, (min(nextCronAt, nextWatchdogAt) - nowNanos) / 1_000_000 + 1)
        if let deadline = timeouts.nextDeadline {
            timeout = min(timeout, max(0, deadline - Clock.wallMillis()))
        }
        if let deadline = jobs.nextDeadline {
            timeout = min(timeout, max(0, deadline - Clock.wallMillis()))
        }
        return Int32(min(timeout, 1000))
    }

    private func handleSignals() {
        guard let signals else { return }
        for signal in signals.drain() {
            switch signal {
            case .terminate, .interrupt:
                Log.warning("Received \(signal == .terminate ? "SIGTERM" : "SIGINT") scheduling shutdown...")
                requestShutdown()
            case .hangup:
                reloadConfiguration()
            }
        }
    }

    /// The data set is loaded and every command is served from now on.
    func becameReady() {
        applyConfigCron()
        applyQueueSettings()
        startWorkerPools()
        Log.notice("Ready to accept connections")
        notifyReady()
        if reloadWhenReady {
            reloadWhenReady = false
            reloadConfiguration()
        }
    }

    /// Stops accepting and ends the loop after this turn's replies are written.
    func requestShutdown() {
        guard !shutdownRequested else { return }
        shutdownRequested = true
        notifier.stopping(status: startupFailure.map { "failed: \($0)" } ?? "shutting down")
        for listener in listeners {
            epoll.remove(listener.fd)
            FileDescriptor.close(listener.fd)
        }
        listeners.removeAll()
        if !config.unixSocket.isEmpty { unlink(config.unixSocket) }
    }

    private func closeEverything() {
        // Replies already written went after their log records; now flush the log to disk.
        aof?.close()
        for case let client? in clientsByFD { closeClient(client) }
        closeHTTPConnections()
        for listener in listeners { FileDescriptor.close(listener.fd) }
        listeners.removeAll()
        Log.notice("jobd is now ready to exit, bye bye...")
    }
}

import Glibc
