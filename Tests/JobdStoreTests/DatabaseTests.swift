import Testing
@testable import JobdStore

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
private func name(_ entry: KeyEntry) -> String { String(decoding: entry.key, as: UTF8.self) }

/// Removes `key` through the pointer API the commands use.
@discardableResult
private func remove(_ db: Database, _ key: String) -> Bool {
    bytes(key).withUnsafeBytes { db.remove($0) }
}

/// Runs a whole SCAN, calling `between` after every step; returns every key seen (with repeats).
private func fullScan(_ db: Database, count: Int, between: (Int) -> Void = { _ in }) -> [String] {
    var seen: [String] = []
    var cursor: UInt64 = 0
    var steps = 0
    repeat {
        cursor = db.scan(cursor: cursor, count: count) { seen.append(name($0)) }
        steps += 1
        between(steps)
        if steps > 1_000_000 { Issue.record("SCAN does not end"); break }
    } while cursor != 0
    return seen
}

@Suite struct ExpiryTests {
    @Test func anExpiredKeyIsGoneWhenReadAndTheHookFires() {
        let keyspace = Keyspace(databaseCount: 2, now: 1_000)
        let db = keyspace[0]
        var expiredNames: [String] = []
        var expiredIn: [Int] = []
        keyspace.onExpire = { db, entry in expiredNames.append(name(entry)); expiredIn.append(db.index) }
        let entry = db.add(bytes("k"), .string(bytes("v")))
        db.setExpiry(entry, at: 1_100)
        #expect(entry.hasExpiry && entry.expiresAt == 1_100)
        #expect(db.expiringCount == 1)
        keyspace.now = 1_050
        #expect(db.lookup(bytes("k")) === entry)
        keyspace.now = 1_100
        #expect(db.lookup(bytes("k")) != nil, "a key expires strictly after its time, as in Redis")
        #expect(keyspace.expiredKeys == 0 && expiredNames.isEmpty)
        keyspace.now = 1_101
        #expect(db.lookup(bytes("k")) == nil)
        #expect(db.count == 0 && db.expiringCount == 0)
        #expect(keyspace.expiredKeys == 1 && expiredNames == ["k"] && expiredIn == [0])
        // Reading it again does not count twice.
        #expect(db.lookup(bytes("k")) == nil)
        #expect(keyspace.expiredKeys == 1)
        #expect(!bytes("k").withUnsafeBytes { db.contains($0) })
    }

    @Test func writingAnExpiredKeyCreatesAFreshOne() {
        let keyspace = Keyspace(databaseCount: 1, now: 0)
        let db = keyspace[0]
        var added: [String] = []
        keyspace.onKeyAdded = { _, entry in added.append(name(entry)) }
        let old = db.add(bytes("k"), .string(bytes("old")))
        db.setExpiry(old, at: 10)
        keyspace.now = 11
        let fresh = bytes("k").withUnsafeBytes { db.set($0, .string(bytes("new"))) }
        #expect(fresh !== old && !fresh.hasExpiry)
        #expect(added == ["k", "k"])
        #expect(keyspace.expiredKeys == 1 && db.count == 1 && db.expiringCount == 0)
    }

    @Test func setReplacesTheValueAndClearsTheTTLUnlessAskedToKeepIt() {
        let keyspace = Keyspace(databaseCount: 1, now: 0)
        let db = keyspace[0]
        let entry = db.add(bytes("k"), .string(bytes("1")))
        db.setExpiry(entry, at: 100)
        let kept = bytes("k").withUnsafeBytes { db.set($0, .string(bytes("2")), keepTTL: true) }
        #expect(kept === entry && entry.expiresAt == 100 && db.expiringCount == 1)
        let cleared = bytes("k").withUnsafeBytes { db.set($0, .string(bytes("3"))) }
        #expect(cleared === entry && !entry.hasExpiry && entry.expiresAt == KeyEntry.persistent && db.expiringCount == 0)
        guard case let .string(value) = entry.value else { Issue.record("not a string"); return }
        #expect(value == bytes("3"))
        #expect(!db.clearExpiry(entry), "nothing to clear")
    }

    @Test func activeExpiryDeletesKeysNobodyReads() {
        let keyspace = Keyspace(databaseCount: 3, now: 0)
        var hooked = 0
        keyspace.onExpire = { _, _ in hooked += 1 }
        for d in [0, 2] {
            let db = keyspace[d]
            for i in 0..<1000 {
                let e = db.add(bytes("short\(i)"), .string([]))
                db.setExpiry(e, at: 10)
            }
            for i in 0..<10 { db.add(bytes("long\(i)"), .string([])) }
            for i in 0..<10 { db.setExpiry(db.add(bytes("later\(i)"), .string([])), at: 1_000) }
        }
        keyspace.now = 11
        var rounds = 0
        var reported = 0
        while keyspace.keyCount > 40 && rounds < 200 {
            reported += keyspace.activeExpireCycle(budgetNanos: 1_000_000_000)
            rounds += 1
        }
        for d in [0, 2] {
            #expect(keyspace[d].count == 20 && keyspace[d].expiringCount == 10)
        }
        #expect(keyspace.expiredKeys == 2000 && reported == 2000 && hooked == 2000)
        // Nothing left to do: a cycle expires nothing.
        #expect(keyspace.activeExpireCycle(budgetNanos: 1_000_000_000) == 0)
    }

    @Test func activeExpiryLeavesKeysThatHaveNotExpired() {
        let keyspace = Keyspace(databaseCount: 1, now: 0)
        let db = keyspace[0]
        for i in 0..<500 { db.setExpiry(db.add(bytes("k\(i)"), .string([])), at: 100) }
        keyspace.now = 100
        #expect(keyspace.activeExpireCycle(budgetNanos: 1_000_000_000) == 0)
        #expect(db.count == 500 && db.expiringCount == 500)
    }

    @Test func theTTLListStaysConsistentUnderRandomChanges() {
        var rng = SeededRandom(state: 7)
        let keyspace = Keyspace(databaseCount: 1, now: 0)
        let db = keyspace[0]
        var model: [String: Int64?] = [:]  // key -> expiry time, nil when persistent
        func live(_ key: String) -> Bool {
            guard let expiry = model[key] else { return false }
            return expiry.map { keyspace.now <= $0 } ?? true
        }
        for step in 0..<6000 {
            let key = "k\(Int.random(in: 0..<60, using: &rng))"
            switch Int.random(in: 0..<8, using: &rng) {
            case 0, 1:
                if db.lookup(bytes(key)) == nil { db.add(bytes(key), .string([])); model[key] = .some(nil) }
            case 2:
                if let e = db.lookup(bytes(key)) {
                    let at = keyspace.now + Int64.random(in: -5...50, using: &rng)
                    db.setExpiry(e, at: at); model[key] = at
                }
            case 3:
                if let e = db.lookup(bytes(key)) { db.clearExpiry(e); model[key] = .some(nil) }
            case 4:
                #expect(remove(db, key) == live(key), "remove \(key) at \(step)")
                model[key] = nil
            case 5:
                keyspace.now += Int64.random(in: 0...10, using: &rng)
            case 6:
                keyspace.activeExpireCycle(budgetNanos: 1_000_000_000, samplePerRound: 5)
            default:
                #expect((db.lookup(bytes(key)) != nil) == live(key), "lookup \(key) at \(step)")
            }
            // Keys the model says are live are present; others may linger until expired.
            for key in model.keys where !live(key) && db.table.find(key: key) == nil { model[key] = nil }
            var entries = 0
            var withTTL = 0
            db.table.forEach { entry in
                entries += 1
                if entry.hasExpiry { withTTL += 1 }
                #expect(model[name(entry)] != nil, "unknown key \(name(entry))")
                #expect(entry.expiresAt == (model[name(entry)] ?? nil) ?? KeyEntry.persistent)
            }
            #expect(entries == db.count && entries == model.count, "count at \(step)")
            if withTTL != db.expiringCount { Issue.record("expiringCount \(db.expiringCount) != \(withTTL) at \(step)"); return }
        }
    }

    @Test func swappedDatabasesKeepTheirTTLsWorking() {
        let keyspace = Keyspace(databaseCount: 2, now: 0)
        let a = keyspace[0], b = keyspace[1]
        let e1 = a.add(bytes("a1"), .string([]))
        let e2 = a.add(bytes("a2"), .string([]))
        a.setExpiry(e1, at: 50)
        a.setExpiry(e2, at: 500)
        b.setExpiry(b.add(bytes("b1"), .string([])), at: 50)
        b.add(bytes("b2"), .string([]))
        b.add(bytes("b3"), .string([]))
        a.swapContents(with: b)
        #expect(a.count == 3 && a.expiringCount == 1 && b.count == 2 && b.expiringCount == 2)
        #expect(b.lookup(bytes("a1")) === e1 && a.lookup(bytes("a1")) == nil && a.lookup(bytes("b2")) != nil)
        // The moved TTL list still knows its entries' positions.
        #expect(b.clearExpiry(e1))
        #expect(b.expiringCount == 1 && !e1.hasExpiry)
        keyspace.now = 100
        #expect(a.lookup(bytes("b1")) == nil && a.count == 2 && a.expiringCount == 0)
        #expect(b.lookup(bytes("a2")) === e2 && b.lookup(bytes("a1")) === e1)
        a.swapContents(with: b)
        #expect(a.count == 2 && b.count == 2 && a.lookup(bytes("a2")) === e2)
    }

    @Test func removeAllForgetsKeysAndTTLs() {
        let keyspace = Keyspace(databaseCount: 2, now: 0)
        for i in 0..<100 { keyspace[i % 2].setExpiry(keyspace[i % 2].add(bytes("k\(i)"), .string([])), at: 5) }
        let kept = keyspace[0].lookup(bytes("k0"))!
        keyspace.removeAll()
        #expect(keyspace.keyCount == 0 && keyspace[0].expiringCount == 0 && keyspace[1].expiringCount == 0)
        // An entry that was in a cleared database can get a TTL again once re-added elsewhere.
        #expect(kept.volatileIndex == -1)
        let again = keyspace[0].add(bytes("k0"), .string([]))
        keyspace[0].setExpiry(again, at: 5)
        #expect(keyspace[0].expiringCount == 1)
    }
}

@Suite struct EnumerationTests {
    @Test func randomEntryReachesEveryKey() {
        let keyspace = Keyspace(databaseCount: 1, now: 0)
        let db = keyspace[0]
        #expect(db.randomEntry() == nil)
        db.add(bytes("only"), .string([]))
        #expect(db.randomEntry()?.key == bytes("only"))
        for i in 0..<20 { db.add(bytes("k\(i)"), .string([])) }
        var seen = Set<String>()
        for _ in 0..<5000 { if let e = db.randomEntry() { seen.insert(name(e)) } }
        #expect(seen.count == 21)
    }

    @Test func randomEntrySkipsAndDeletesExpiredKeys() {
        let keyspace = Keyspace(databaseCount: 1, now: 0)
        let db = keyspace[0]
        for i in 0..<300 { db.setExpiry(db.add(bytes("gone\(i)"), .string([])), at: 5) }
        db.add(bytes("live"), .string([]))
        keyspace.now = 10
        for _ in 0..<50 { #expect(db.randomEntry()?.key == bytes("live")) }
    }

    @Test func randomEntryNeverReturnsAnExpiredKey() {
        // RANDOMKEY on a Redis master deletes expired keys until it finds a live
        // one or the database is empty; it never names a key that does not exist.
        let keyspace = Keyspace(databaseCount: 1, now: 0)
        let db = keyspace[0]
        for i in 0..<300 { db.setExpiry(db.add(bytes("gone\(i)"), .string([])), at: 5) }
        keyspace.now = 10
        let picked = db.randomEntry()
        #expect(picked == nil, "returned expired key \(picked.map(name) ?? "")")
        #expect(db.count == 0 && db.expiringCount == 0 && keyspace.expiredKeys == 300)
    }

    @Test func forEachLiveSkipsExpiredKeysAndDeletesThem() {
        let keyspace = Keyspace(databaseCount: 1, now: 0)
        let db = keyspace[0]
        for i in 0..<100 {
            let e = db.add(bytes("k\(i)"), .string([]))
            if i % 3 == 0 { db.setExpiry(e, at: 5) }
        }
        keyspace.now = 6
        var seen = Set<String>()
        db.forEachLive { seen.insert(name($0)) }
        #expect(seen.count == 66 && !seen.contains("k0") && seen.contains("k1"))
        #expect(db.count == 66 && keyspace.expiredKeys == 34)
    }

    @Test func aScanOfAnUnchangedTableReturnsEveryKeyExactlyOnce() {
        let keyspace = Keyspace(databaseCount: 1, now: 0)
        let db = keyspace[0]
        for i in 0..<5000 { db.add(bytes("key:\(i)"), .string([])) }
        for count in [1, 10, 100, 10_000] {
            let seen = fullScan(db, count: count)
            #expect(seen.count == 5000 && Set(seen).count == 5000, "COUNT \(count)")
        }
        #expect(fullScan(keyspace[0], count: 10).count == 5000)
        let empty = Keyspace(databaseCount: 1, now: 0)[0]
        #expect(empty.scan(cursor: 0, count: 10) { _ in Issue.record("nothing to see") } == 0)
    }

    @Test(arguments: [1, 7, 50])
    func scanReturnsEveryKeyPresentForTheWholeScanWhileTheTableGrows(count: Int) {
        let keyspace = Keyspace(databaseCount: 1, now: 0)
        let db = keyspace[0]
        let stable = (0..<2000).map { "stable:\($0)" }
        for k in stable { db.add(bytes(k), .string([])) }
        let startBuckets = db.bucketCount
        var added = 0
        let seen = fullScan(db, count: count) { step in
            // Many keys between calls: the table doubles several times mid-scan.
            if step % 3 == 0 && added < 30_000 {
                for _ in 0..<1500 { db.add(bytes("new:\(added)"), .string([])); added += 1 }
            }
        }
        #expect(db.bucketCount >= startBuckets * 8, "the table grew during the scan")
        let missing = Set(stable).subtracting(seen).count
        #expect(missing == 0, "\(missing) stable keys were never returned")
    }

    @Test(arguments: [1, 7, 50])
    func scanReturnsEveryKeyPresentForTheWholeScanWhileTheTableShrinks(count: Int) {
        let keyspace = Keyspace(databaseCount: 1, now: 0)
        let db = keyspace[0]
        let stable = (0..<300).map { "stable:\($0)" }
        for k in stable { db.add(bytes(k), .string([])) }
        for i in 0..<30_000 { db.add(bytes("doomed:\(i)"), .string([])) }
        let startBuckets = db.bucketCount
        var removed = 0
        let seen = fullScan(db, count: count) { _ in
            // Remove many keys between calls: the table shrinks several times mid-scan.
            for _ in 0..<400 where removed < 30_000 {
                #expect(remove(db, "doomed:\(removed)"))
                removed += 1
            }
        }
        #expect(db.bucketCount * 8 <= startBuckets, "the table shrank during the scan")
        let missing = Set(stable).subtracting(seen).count
        #expect(missing == 0, "\(missing) stable keys were never returned")
    }

    @Test func scanReturnsEveryStableKeyWhileTheTableGrowsAndShrinksInTurn() {
        var rng = SeededRandom(state: 99)
        let keyspace = Keyspace(databaseCount: 1, now: 0)
        let db = keyspace[0]
        let stable = (0..<1000).map { "stable:\($0)" }
        for k in stable { db.add(bytes(k), .string([])) }
        var churn: [String] = []
        var next = 0
        var sizes = Set<Int>()
        let seen = fullScan(db, count: 5) { step in
            if (step / 40) % 2 == 0 {
                for _ in 0..<Int.random(in: 0...800, using: &rng) {
                    churn.append("churn:\(next)"); db.add(bytes("churn:\(next)"), .string([])); next += 1
                }
            } else {
                for _ in 0..<min(churn.count, Int.random(in: 0...1500, using: &rng)) {
                    let i = Int.random(in: 0..<churn.count, using: &rng)
                    churn.swapAt(i, churn.count - 1)
                    remove(db, churn.removeLast())
                }
            }
            sizes.insert(db.bucketCount)
        }
        #expect(sizes.count >= 3, "the table changed size during the scan")
        let missing = Set(stable).subtracting(seen).count
        #expect(missing == 0, "\(missing) stable keys were never returned")
    }

    @Test func scanSkipsAndDeletesExpiredKeys() {
        let keyspace = Keyspace(databaseCount: 1, now: 0)
        let db = keyspace[0]
        for i in 0..<100 {
            let e = db.add(bytes("k\(i)"), .string([]))
            if i % 2 == 0 { db.setExpiry(e, at: 5) }
        }
        keyspace.now = 10
        let seen = fullScan(db, count: 10)
        #expect(seen.count == 50 && seen.allSatisfy { Int($0.dropFirst())! % 2 == 1 })
        #expect(db.count == 50 && keyspace.expiredKeys == 50)
    }
}

@Suite struct ByteHashTests {
    @Test func equalBytesHashEquallyWhereverTheyLive() {
        let a = bytes("some key")
        let b = Array("xxsome key".utf8)[2...]
        #expect(ByteHash.hash(a) == ByteHash.hash(Array(b)))
        #expect(b.withUnsafeBytes { ByteHash.hash($0) } == ByteHash.hash(a))
        #expect(ByteHash.hash([]) == ByteHash.hash([UInt8]()))
    }

    @Test func differentLengthsAndContentsHashDifferently() {
        var hashes = Set<UInt64>()
        // Runs of zero bytes of every length: only the length differs.
        for n in 0...200 { hashes.insert(ByteHash.hash([UInt8](repeating: 0, count: n))) }
        #expect(hashes.count == 201)
        // Every single-bit change of a 100-byte key.
        let base = (0..<100).map { UInt8($0) }
        var flipped = Set<UInt64>([ByteHash.hash(base)])
        for i in 0..<100 {
            for bit in 0..<8 {
                var key = base
                key[i] ^= 1 << bit
                flipped.insert(ByteHash.hash(key))
            }
        }
        #expect(flipped.count == 801)
        let sequential = Set((0..<50_000).map { ByteHash.hash(bytes("key:\($0)")) })
        #expect(sequential.count == 50_000)
    }

    @Test func theLowBitsSpreadSequentialKeysOverBuckets() {
        // The key table picks buckets with the low bits.
        var buckets = [Int](repeating: 0, count: 1024)
        for i in 0..<32_768 { buckets[Int(ByteHash.hash(bytes("job:\(i)")) & 1023)] += 1 }
        #expect(buckets.max()! < 32 * 3 && buckets.min()! > 0)
    }
}

extension KeyTable {
    func find(key: String) -> KeyEntry? {
        let b = Array(key.utf8)
        return b.withUnsafeBytes { find($0, hash: ByteHash.hash($0)) }
    }
}
