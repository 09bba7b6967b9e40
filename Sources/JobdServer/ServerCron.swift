import JobdStore
import JobdSystem

/// Periodic work, `hz` times a second (Redis' serverCron): active expiry,
/// idle-client timeouts, output-limit checks, statistics samples.
extension Server {
    func cron() {
        let interval = Int64(1_000_000_000 / max(1, config.hz))
        nextCronAt = Clock.monotonicNanos() + interval
        cronCount += 1
        let now = keyspace.now
        keyspace.accessClock = UInt32(truncatingIfNeeded: now / 100)
        // Redis' slow cycle uses up to 25% of each cron period.
        keyspace.activeExpireCycle(budgetNanos: interval / 4)
        if now - stats.lastSampleTime >= 100 { stats.sampleOps(nowMillis: now) }
        if config.timeout > 0 || hasClientsOverSoftLimit { checkClients(now: now) }
        peakMemory = max(peakMemory, ProcessMemory.allocatedBytes())
        if memoryWasOver { _ = makeRoomForWrite() }  // keep evicting between writes
        if cronCount % 10 == 0 { considerAutomaticRewrite() }
        if cronCount % max(1, config.hz) == 0 {
            expireHTTPConnections()
            jobs.sweepPlainQueues(now: now)
        }
        jobs.sampleRates(now: now)
        notifyStatusIfDue()
    }

    private var hasClientsOverSoftLimit: Bool {
        clientsByFD.contains { $0?.softLimitSince ?? 0 != 0 }
    }

    /// Closes idle clients (`timeout`) and clients stuck above the soft output limit.
    private func checkClients(now: Int64) {
        let idleLimit = Int64(config.timeout) * 1000
        for case let client? in clientsByFD where !client.closeNow {
            if idleLimit > 0 && !client.isBlocked && now - client.lastInteraction > idleLimit {
                Log.verbose("Closing idle client \(client.peer.text)")
                closeClient(client)
                continue
            }
            if client.softLimitSince != 0 { checkOutputLimits(client) }
        }
    }

    /// Applies settings changed by CONFIG SET or a reload.
    func configChanged() {
        Log.level = config.logLevel
        aof?.policy = config.appendFsync
        connectJobEngine()
        requestLimits.maxBulkLength = config.protoMaxBulkLen
        normalOutputLimit = config.outputLimits[.normal]!
        pubsubOutputLimit = config.outputLimits[.pubsub]!
        slowLogThresholdTicks = Server.slowLogTicks(config)
        applyMemoryPolicy()
        outputLimitCheckFloor = Server.checkFloor(normalOutputLimit)
        for case let client? in clientsByFD { client.parser.limits.maxBulkLength = config.protoMaxBulkLen }
    }

    /// SWAPDB: waiters follow their database number, and lists now present wake them.
    func databasesSwapped(_ a: Int, _ b: Int) {
        guard !blocking.isEmpty else { return }
        for index in [a, b] {
            keyspace[index].forEachLive { entry in
                switch entry.value {
                case .list, .zset, .stream: blocking.keyReady(database: index, key: entry.key)
                default: break
                }
            }
        }
    }
}
