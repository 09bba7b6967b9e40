/// What a key holds. Collection types are classes so that a command mutates
/// them in place through the key's entry, without copy-on-write copies.
public enum Value {
    case string([UInt8])
    case list(ListValue)
    case hash(HashValue)
    case set(SetValue)
    case zset(SortedSetValue)
    case stream(StreamValue)

    /// The name TYPE reports.
    public var typeName: StaticString {
        switch self {
        case .string: "string"
        case .list: "list"
        case .hash: "hash"
        case .set: "set"
        case .zset: "zset"
        case .stream: "stream"
        }
    }

    public var isList: Bool {
        if case .list = self { return true }
        return false
    }

    public var kind: ValueKind {
        switch self {
        case .string: .string
        case .list: .list
        case .hash: .hash
        case .set: .set
        case .zset: .zset
        case .stream: .stream
        }
    }
}

/// Value types without their payloads (TYPE filters in SCAN, type checks).
public enum ValueKind: Sendable {
    case string, list, hash, set, zset, stream

    public init?(name: UnsafeRawBufferPointer) {
        for kind in [ValueKind.string, .list, .hash, .set, .zset, .stream] where name.elementsEqualIgnoringCase(kind.name) {
            self = kind
            return
        }
        return nil
    }

    public var name: String {
        switch self {
        case .string: "string"
        case .list: "list"
        case .hash: "hash"
        case .set: "set"
        case .zset: "zset"
        case .stream: "stream"
        }
    }
}

extension UnsafeRawBufferPointer {
    func elementsEqualIgnoringCase(_ word: String) -> Bool {
        let w = Array(word.utf8)
        guard count == w.count else { return false }
        for i in 0..<count where (self[i] | 0x20) != (w[i] | 0x20) { return false }
        return true
    }
}

/// One key in a database: its name, value, expiry and bookkeeping.
public final class KeyEntry {
    public let key: [UInt8]
    public var value: Value
    /// Absolute expiry in Unix milliseconds, or `KeyEntry.persistent`.
    public internal(set) var expiresAt: Int64 = KeyEntry.persistent
    /// Last access, in the keyspace's access clock (tenths of a second): for
    /// OBJECT IDLETIME, LRU eviction and LFU decay.
    public var lastAccess: UInt32 = 0
    /// LFU: a logarithmic access counter (Redis' 8-bit counter; new keys start at 5).
    public var frequency: UInt8 = Keyspace.lfuInitialValue

    let hash: UInt64
    /// The next entry in the same hash bucket.
    var next: KeyEntry?
    /// Position in the database's list of keys with a TTL, or -1.
    var volatileIndex: Int = -1
    /// The log rewrite that already wrote this key (or that began before it
    /// existed); a rewrite writes each key it finds with another value once.
    public var snapshotGeneration: UInt32 = 0

    public static let persistent: Int64 = -1

    init(key: [UInt8], hash: UInt64, value: Value) {
        self.key = key
        self.hash = hash
        self.value = value
    }

    @inline(__always) public var hasExpiry: Bool { expiresAt != KeyEntry.persistent }
}
