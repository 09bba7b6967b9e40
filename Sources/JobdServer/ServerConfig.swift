import JobdPersistence
import JobdQueue
import JobdSystem

/// Per-class output buffer limits (client-output-buffer-limit).
public struct OutputBufferLimit: Equatable, Sendable {
    public var hardBytes: Int
    public var softBytes: Int
    public var softSeconds: Int

    public init(hardBytes: Int, softBytes: Int, softSeconds: Int) {
        self.hardBytes = hardBytes
        self.softBytes = softBytes
        self.softSeconds = softSeconds
    }
}

/// Client classes that have their own output buffer limits.
public enum ClientClass: String, CaseIterable, Sendable {
    case normal, replica, pubsub
}

/// Every setting of the server, with jobd's defaults. The directive table
/// (`ConfigDirectives`) is the only way these are read from files, flags
/// and CONFIG SET, so names, parsing and errors are in one place.
public final class ServerConfig {
    public var bind = ["127.0.0.1", "::1"]
    public var port = 6379
    /// The HTTP port (metrics, JSON API, dashboard); 0 turns HTTP off.
    public var httpPort = 7420
    public var httpBind = ["127.0.0.1"]
    public var unixSocket = ""
    public var unixSocketPerm = 0
    public var tcpBacklog = 511
    public var tcpKeepalive = 300
    public var timeout = 0
    public var protectedMode = true
    public var requirePass = ""
    public var maxClients = 10000
    /// Bytes of replies held for the log (appendfsync always, stalled disk) before reads pause; 0: no limit.
    public var aofWaitBufferLimit = 256 * 1024 * 1024
    /// Memory limit in bytes (0: none) and what to evict when it is reached.
    public var maxMemory = 0
    public var maxMemoryPolicy = EvictionPolicy.noeviction
    public var maxMemorySamples = 5
    public var lfuLogFactor = 10
    public var lfuDecayTime = 1
    /// SLOWLOG: commands slower than this many microseconds are kept (negative: none).
    public var slowlogLogSlowerThan = 10_000
    public var slowlogMaxLen = 128
    /// Job engine: default lease, how long results are kept, priority aging (ms).
    public var leaseTimeout: Int64 = 30_000
    public var resultTTL: Int64 = 3_600_000
    public var priorityAging: Int64 = 0
    /// In-process worker pools (`worker` lines).
    public var workers: [WorkerPoolSpec] = []
    /// cron lines: name, "spec", queue, payload, JOB.ADD options (the words of CRON.ADD).
    public var cronEntries: [[String]] = []
    /// rename-command: (original, new name; "" disables the command).
    public var renamedCommands: [(original: String, newName: String)] = []
    /// Queue settings (`queue` lines), applied in order once the log is loaded.
    public var queues: [QueueSpec] = []
    /// On SIGTERM, how long running in-process jobs may take to finish (ms).
    public var shutdownTimeout: Int64 = 10_000
    public var databases = 16
    public var dir = "./data"
    public var pidFile = ""
    public var logLevel = LogLevel.notice
    public var logFile = ""
    public var hz = 10
    public var protoMaxBulkLen = 512 * 1024 * 1024
    public var clientQueryBufferLimit = 1024 * 1024 * 1024
    /// Unlike Redis (no limit for normal clients by default), jobd bounds a
    /// client that stops reading its replies.
    public var outputLimits: [ClientClass: OutputBufferLimit] = [
        .normal: OutputBufferLimit(hardBytes: 256 * 1024 * 1024, softBytes: 64 * 1024 * 1024, softSeconds: 60),
        .replica: OutputBufferLimit(hardBytes: 256 * 1024 * 1024, softBytes: 64 * 1024 * 1024, softSeconds: 60),
        .pubsub: OutputBufferLimit(hardBytes: 32 * 1024 * 1024, softBytes: 8 * 1024 * 1024, softSeconds: 60),
    ]
    /// jobd is a job server: the log is on unless turned off.
    public var appendOnly = true
    public var appendFsync = FsyncPolicy.everysec
    public var appendFilename = "appendonly.aof"
    public var appendDirname = "appendonlydir"
    public var aofLoadTruncated = true
    public var autoRewritePercentage = 100
    public var autoRewriteMinSize = 64 * 1024 * 1024
    public var busyReplyThresholdMillis = 5000

    public init() {}

    /// An independent copy (CONFIG SET validates changes on one first).
    func copy() -> ServerConfig {
        let other = ServerConfig()
        for directive in ConfigDirectives.all where !directive.repeatable {
            try? directive.set(other, [directive.get(self)])
        }
        other.workers = workers
        other.renamedCommands = renamedCommands
        other.cronEntries = cronEntries
        other.queues = queues
        return other
    }
}

/// maxmemory-policy: which keys may go when memory is full. Lists (queues)
/// are never evicted under any policy.
public enum EvictionPolicy: String, Sendable, CaseIterable {
    // In Redis' order (its CONFIG SET error lists them so).
    case volatileLRU = "volatile-lru", volatileLFU = "volatile-lfu", volatileRandom = "volatile-random"
    case volatileTTL = "volatile-ttl"
    case allkeysLRU = "allkeys-lru", allkeysLFU = "allkeys-lfu", allkeysRandom = "allkeys-random"
    case noeviction

    /// Only keys with a TTL are candidates.
    var volatileOnly: Bool {
        switch self {
        case .volatileLRU, .volatileLFU, .volatileRandom, .volatileTTL: true
        default: false
        }
    }
    var usesFrequency: Bool { self == .allkeysLFU || self == .volatileLFU }
    var isRandom: Bool { self == .allkeysRandom || self == .volatileRandom }
}
