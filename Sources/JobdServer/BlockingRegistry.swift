import JobdStore

/// Which end of a list.
enum ListEnd: Sendable {
    case head, tail

    var name: String { self == .head ? "LEFT" : "RIGHT" }
}

/// A client waiting in BLPOP, BRPOP, BLMPOP, BLMOVE, BRPOPLPUSH or XREAD BLOCK.
struct BlockedCommand {
    enum Action {
        /// BLPOP/BRPOP: reply [key, element].
        case pop(ListEnd)
        /// BLMPOP: reply [key, [elements...]] with up to `count` elements.
        case popMany(ListEnd, count: Int)
        /// BLMOVE/BRPOPLPUSH: move one element to `destination`, reply with it.
        case move(from: ListEnd, to: ListEnd, destination: [UInt8])
        /// XREAD BLOCK: entries after these IDs (one per key), up to `count` (0 = all).
        case readStreams(after: [StreamID], count: Int)
        /// BZPOPMIN/BZPOPMAX: reply [key, member, score].
        case popSortedSet(max: Bool)
        /// JOB.GET BLOCK: lease up to `count` jobs from the keys (queues).
        case leaseJobs(count: Int, lease: Int64?)
        /// JOB.RESULT WAIT: answered when the job finishes (no keys).
        case waitResult(job: UInt64)
    }

    let action: Action
    let keys: [[UInt8]]
    let database: Int
    /// Absolute deadline in Unix ms; 0 waits forever.
    let deadline: Int64
    let serial: UInt64
}

/// Blocked clients per (database, key), in arrival order, and the keys
/// that became ready since they were last served.
final class BlockingRegistry {
    struct KeyRef: Hashable {
        let database: Int
        let key: [UInt8]
    }

    private var waiters: [KeyRef: RingDeque<Client>] = [:]
    private var readySet = Set<KeyRef>()
    private(set) var readyKeys: [KeyRef] = []
    private(set) var blockedClientCount = 0
    private var nextSerial: UInt64 = 1

    var hasReadyKeys: Bool { !readyKeys.isEmpty }
    var isEmpty: Bool { waiters.isEmpty }
    var blockingKeyCount: Int { waiters.count }

    func makeSerial() -> UInt64 {
        defer { nextSerial += 1 }
        return nextSerial
    }

    func block(_ client: Client, _ command: BlockedCommand) {
        client.blocked = command
        blockedClientCount += 1
        var seen = Set<[UInt8]>()
        for key in command.keys where seen.insert(key).inserted {
            waiters[KeyRef(database: command.database, key: key), default: RingDeque()].append(client)
        }
    }

    /// Removes the client from every key it waits on.
    func unblock(_ client: Client) {
        guard let command = client.blocked else { return }
        client.blocked = nil
        blockedClientCount -= 1
        for key in Set(command.keys) {
            let ref = KeyRef(database: command.database, key: key)
            guard var queue = waiters[ref] else { continue }
            waiters[ref] = nil
            queue.removeFirst { $0 === client }
            if !queue.isEmpty { waiters[ref] = queue }
        }
    }

    /// Records that a list now exists at `key`, if anyone is waiting for it.
    @inline(__always)
    func keyReady(database: Int, key: [UInt8]) {
        guard !waiters.isEmpty else { return }
        let ref = KeyRef(database: database, key: key)
        guard waiters[ref] != nil, readySet.insert(ref).inserted else { return }
        readyKeys.append(ref)
    }

    func takeReadyKeys() -> [KeyRef] {
        let keys = readyKeys
        readyKeys.removeAll()
        readySet.removeAll()
        return keys
    }

    /// The clients waiting on `ref`, oldest first (a snapshot).
    func waiting(on ref: KeyRef) -> [Client] {
        guard let queue = waiters[ref] else { return [] }
        return Array(queue)
    }

    /// Moves every waiter of database `a` to `b` and back (SWAPDB, later).
    func databasesSwapped(_ a: Int, _ b: Int) {
        var moved: [KeyRef: RingDeque<Client>] = [:]
        for (ref, queue) in waiters {
            let database = ref.database == a ? b : ref.database == b ? a : ref.database
            moved[KeyRef(database: database, key: ref.key)] = queue
        }
        waiters = moved
    }
}
