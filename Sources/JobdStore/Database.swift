import JobdSystem

/// One of the keyspace's numbered databases: keys, their values and TTLs.
///
/// Expiry is lazy (a read of an expired key deletes it first) and active
/// (`expireSample` deletes expired keys found by sampling the keys that
/// have a TTL). Every deletion by expiry is reported to the keyspace's
/// `onExpire` hook so the server can log it and wake watchers.
public final class Database {
    public let index: Int
    unowned let keyspace: Keyspace
    let table = KeyTable()
    /// Entries with a TTL, for sampling; each knows its position.
    private var volatile: [KeyEntry] = []

    init(index: Int, keyspace: Keyspace) {
        self.index = index
        self.keyspace = keyspace
    }

    public var count: Int { table.count }
    public var expiringCount: Int { volatile.count }
    var bucketCount: Int { table.size }

    // MARK: Lookup

    /// The live entry for `key`, deleting it first if it has expired.
    @inline(__always)
    public func lookup(_ key: UnsafeRawBufferPointer) -> KeyEntry? {
        guard let entry = table.find(key, hash: ByteHash.hash(key)) else { return nil }
        if entry.expiresAt != KeyEntry.persistent && keyspace.now > entry.expiresAt {
            expire(entry)
            return nil
        }
        keyspace.touchAccess(entry)
        return entry
    }

    /// The live entry for `key` without counting an access (TYPE, EXISTS, TTL,
    /// OBJECT: Redis' LOOKUP_NOTOUCH, so that looking does not make a key hot).
    public func peek(_ key: UnsafeRawBufferPointer) -> KeyEntry? {
        guard let entry = table.find(key, hash: ByteHash.hash(key)) else { return nil }
        if entry.expiresAt != KeyEntry.persistent && keyspace.now > entry.expiresAt {
            expire(entry)
            return nil
        }
        return entry
    }

    public func lookup(_ key: [UInt8]) -> KeyEntry? {
        key.withUnsafeBytes { lookup($0) }
    }

    /// True when the key exists and has not expired.
    public func contains(_ key: UnsafeRawBufferPointer) -> Bool { lookup(key) != nil }

    // MARK: Changes

    /// Adds a key that does not exist (callers look it up first).
    @discardableResult
    public func add(_ key: UnsafeRawBufferPointer, _ value: Value) -> KeyEntry {
        add(Array(key), value)
    }

    @discardableResult
    public func add(_ key: [UInt8], _ value: Value) -> KeyEntry {
        let entry = KeyEntry(key: key, hash: ByteHash.hash(key), value: value)
        entry.lastAccess = keyspace.accessClock
        entry.snapshotGeneration = keyspace.snapshotGeneration
        table.insert(entry)
        keyspace.onKeyAdded?(self, entry)
        return entry
    }

    /// Stores `value` under `key`, replacing any value; the TTL is cleared unless `keepTTL`.
    @discardableResult
    public func set(_ key: UnsafeRawBufferPointer, _ value: Value, keepTTL: Bool = false) -> KeyEntry {
        if let entry = lookup(key) {
            entry.value = value
            if !keepTTL { clearExpiry(entry) }
            return entry
        }
        return add(key, value)
    }

    /// Deletes an entry that is in this database.
    public func remove(_ entry: KeyEntry) {
        clearExpiry(entry)
        table.remove(entry)
    }

    /// Deletes `key`; returns whether it existed (and was live).
    @discardableResult
    public func remove(_ key: UnsafeRawBufferPointer) -> Bool {
        guard let entry = lookup(key) else { return false }
        remove(entry)
        return true
    }

    public func setExpiry(_ entry: KeyEntry, at unixMillis: Int64) {
        if entry.volatileIndex < 0 {
            entry.volatileIndex = volatile.count
            volatile.append(entry)
        }
        entry.expiresAt = unixMillis
    }

    /// Removes the TTL; returns whether there was one.
    @discardableResult
    public func clearExpiry(_ entry: KeyEntry) -> Bool {
        guard entry.volatileIndex >= 0 else { return false }
        let index = entry.volatileIndex
        let last = volatile.removeLast()
        if last !== entry {
            volatile[index] = last
            last.volatileIndex = index
        }
        entry.volatileIndex = -1
        entry.expiresAt = KeyEntry.persistent
        return true
    }

    public func removeAll() {
        for entry in volatile { entry.volatileIndex = -1 }
        volatile.removeAll()
        table.removeAll()
    }

    // MARK: Expiry

    private func expire(_ entry: KeyEntry) {
        remove(entry)
        keyspace.expiredKeys += 1
        keyspace.onExpire?(self, entry)
    }

    /// One round of active expiry: samples up to `sample` keys with a TTL and
    /// deletes the expired ones. Returns (sampled, expired).
    func expireSample(_ sample: Int) -> (Int, Int) {
        let n = min(sample, volatile.count)
        var expired = 0
        for _ in 0..<n {
            guard !volatile.isEmpty else { break }
            let entry = volatile[Int.random(in: 0..<volatile.count, using: &keyspace.random)]
            if keyspace.now > entry.expiresAt {
                expire(entry)
                expired += 1
            }
        }
        return (n, expired)
    }

    // MARK: Enumeration

    /// A random key with a TTL (possibly expired: eviction does not mind), or nil.
    public func randomVolatileEntry() -> KeyEntry? {
        volatile.isEmpty ? nil : volatile[Int.random(in: 0..<volatile.count, using: &keyspace.random)]
    }

    /// A random live key, or nil when the database is empty.
    public func randomEntry() -> KeyEntry? {
        // Every expired pick is deleted, so this ends within `count` tries. Redis
        // gives up after 100 tries and returns an expired name only on a replica,
        // which cannot delete keys; a master (jobd) never names a missing key.
        while let entry = table.randomEntry(using: &keyspace.random) {
            if entry.hasExpiry && keyspace.now > entry.expiresAt {
                expire(entry)
                continue
            }
            return entry
        }
        return nil
    }

    /// Calls `body` for every live entry. Expired entries found on the way are deleted afterwards.
    public func forEachLive(_ body: (KeyEntry) -> Void) {
        var expiredFound: [KeyEntry] = []
        table.forEach { entry in
            if entry.hasExpiry && keyspace.now > entry.expiresAt {
                expiredFound.append(entry)
            } else {
                body(entry)
            }
        }
        for entry in expiredFound { expire(entry) }
    }

    /// One SCAN step: live entries from `cursor`; returns the next cursor.
    public func scan(cursor: UInt64, count: Int, _ body: (KeyEntry) -> Void) -> UInt64 {
        var expiredFound: [KeyEntry] = []
        let next = table.scan(cursor: cursor, atLeast: count, maxBuckets: count.multipliedReportingOverflow(by: 10).overflow ? Int.max : count * 10) { entry in
            if entry.hasExpiry && keyspace.now > entry.expiresAt {
                expiredFound.append(entry)
            } else {
                body(entry)
            }
        }
        for entry in expiredFound { expire(entry) }
        return next
    }

    /// The entry for `key` as stored, expired or not, without deleting anything
    /// (the log rewriter must see a key exactly as it is).
    public func storedEntry(_ key: UnsafeRawBufferPointer) -> KeyEntry? {
        table.find(key, hash: ByteHash.hash(key))
    }

    /// One SCAN step over the stored entries, expired ones included, deleting nothing.
    public func scanStored(cursor: UInt64, count: Int, _ body: (KeyEntry) -> Void) -> UInt64 {
        table.scan(cursor: cursor, atLeast: count, maxBuckets: count * 10, body)
    }

    /// Every stored entry, expired ones included.
    public func forEachStored(_ body: (KeyEntry) -> Void) { table.forEach(body) }

    /// Exchanges all keys with `other` (SWAPDB and tests).
    public func swapContents(with other: Database) {
        let myVolatile = volatile
        volatile = other.volatile
        other.volatile = myVolatile
        table.swapContents(with: other.table)
    }
}
