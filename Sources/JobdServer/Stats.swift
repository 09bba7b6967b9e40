/// Counters shown by INFO stats (reset by CONFIG RESETSTAT).
struct Stats {
    var connectionsReceived = 0
    var commandsProcessed = 0
    var rejectedConnections = 0
    var netInputBytes = 0
    var netOutputBytes = 0
    var keyspaceHits = 0
    var keyspaceMisses = 0
    var unexpectedErrorReplies = 0
    var totalErrorReplies = 0
    var queryBufferLimitDisconnections = 0
    var outputBufferLimitDisconnections = 0
    var protocolErrors = 0
    var authFailures = 0
    /// Times reading from clients paused because held replies reached aof-wait-buffer-limit.
    var logBackpressurePauses = 0
    var evictedKeys = 0
    /// List pushes refused with -OOM (a job enqueue the producer saw fail).
    var rejectedEnqueuesOOM = 0

    /// Samples for instantaneous_ops_per_sec (Redis keeps 16, taken every 100 ms).
    var opsSamples = [Int](repeating: 0, count: 16)
    var opsSampleIndex = 0
    var lastSampleTime: Int64 = 0
    var lastSampleCommands = 0

    mutating func sampleOps(nowMillis: Int64) {
        let elapsed = nowMillis - lastSampleTime
        guard elapsed > 0 else { return }
        let ops = commandsProcessed - lastSampleCommands
        opsSamples[opsSampleIndex] = Int(Int64(ops) * 1000 / elapsed)
        opsSampleIndex = (opsSampleIndex + 1) % opsSamples.count
        lastSampleTime = nowMillis
        lastSampleCommands = commandsProcessed
    }

    var instantaneousOpsPerSecond: Int { opsSamples.reduce(0, +) / opsSamples.count }
}
