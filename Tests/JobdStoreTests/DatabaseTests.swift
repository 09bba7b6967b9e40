import Testing
@testable import JobdStore

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

@Suite struct DatabaseTests {
    @Test func anExpiredKeyIsGoneWhenReadAndTheHookFires() {
        let keyspace = Keyspace(databaseCount: 2, now: 1_000)
        let db = keyspace[0]
        var expiredNames: [[UInt8]] = []
        keyspace.onExpire = { _, entry in expiredNames.append(entry.key) }
        let entry = db.add(bytes("k"), .string(bytes("v")))
        db.setExpiry(entry, at: 1_100)
        keyspace.now = 1_100
        #expect(db.lookup(bytes("k")) != nil, "a key expires strictly after its time, as in Redis")
        keyspace.now = 1_101
        #expect(db.lookup(bytes("k")) == nil)
        #expect(db.count == 0 && db.expiringCount == 0)
        #expect(keyspace.expiredKeys == 1 && expiredNames == [bytes("k")])
    }

    @Test func activeExpiryDeletesKeysNobodyReads() {
        let keyspace = Keyspace(databaseCount: 1, now: 0)
        let db = keyspace[0]
        for i in 0..<1000 {
            let e = db.add(bytes("short\(i)"), .string([]))
            db.setExpiry(e, at: 10)
        }
        for i in 0..<10 { db.add(bytes("long\(i)"), .string([])) }
        keyspace.now = 11
        var rounds = 0
        while db.count > 10 && rounds < 100 {
            keyspace.activeExpireCycle(budgetNanos: 1_000_000_000)
            rounds += 1
        }
        #expect(db.count == 10 && db.expiringCount == 0)
        #expect(keyspace.expiredKeys == 1000)
    }

    @Test func theTTLListStaysConsistentUnderRandomChanges() {
        var rng = SeededRandom(state: 7)
        let keyspace = Keyspace(databaseCount: 1, now: 0)
        let db = keyspace[0]
        var model: [String: Bool] = [:]  // key -> has TTL
        for step in 0..<5000 {
            let key = "k\(Int.random(in: 0..<50, using: &rng))"
            switch Int.random(in: 0..<4, using: &rng) {
            case 0:
                if db.lookup(bytes(key)) == nil { db.add(bytes(key), .string([])); model[key] = false }
            case 1:
                if let e = db.lookup(bytes(key)) { db.setExpiry(e, at: 1_000_000 + Int64(step)); model[key] = true }
            case 2:
                if let e = db.lookup(bytes(key)) { db.clearExpiry(e); model[key] = false }
            default:
                if let e = db.lookup(bytes(key)) { db.remove(e); model[key] = nil }
            }
            #expect(db.count == model.count)
            #expect(db.expiringCount == model.values.filter { $0 }.count)
        }
    }

    @Test func scanReturnsEveryKeyPresentForTheWholeScanWhileTheTableGrowsAndShrinks() {
        let keyspace = Keyspace(databaseCount: 1, now: 0)
        let db = keyspace[0]
        let stable = (0..<3000).map { "stable:\($0)" }
        for k in stable { db.add(bytes(k), .string([])) }
        var seen = Set<String>()
        var cursor: UInt64 = 0
        var step = 0
        repeat {
            cursor = db.scan(cursor: cursor, count: 20) { seen.insert(String(decoding: $0.key, as: UTF8.self)) }
            step += 1
            if step < 20 {
                for i in 0..<400 { db.add(bytes("churn:\(step):\(i)"), .string([])) }
            } else if step < 40 {
                for i in 0..<400 { db.remove(bytes("churn:\(step - 20):\(i)").withUnsafeBytes { $0 }) }
            }
        } while cursor != 0
        #expect(Set(stable).isSubset(of: seen))
    }

    @Test func scanSkipsAndDeletesExpiredKeys() {
        let keyspace = Keyspace(databaseCount: 1, now: 0)
        let db = keyspace[0]
        for i in 0..<100 {
            let e = db.add(bytes("k\(i)"), .string([]))
            if i % 2 == 0 { db.setExpiry(e, at: 5) }
        }
        keyspace.now = 10
        var seen = 0
        var cursor: UInt64 = 0
        repeat { cursor = db.scan(cursor: cursor, count: 10) { _ in seen += 1 } } while cursor != 0
        #expect(seen == 50 && db.count == 50)
    }

    @Test func randomEntryAndSwap() {
        let keyspace = Keyspace(databaseCount: 2, now: 0)
        #expect(keyspace[0].randomEntry() == nil)
        keyspace[0].add(bytes("only"), .string([]))
        #expect(keyspace[0].randomEntry()?.key == bytes("only"))
        keyspace[0].swapContents(with: keyspace[1])
        #expect(keyspace[0].count == 0 && keyspace[1].lookup(bytes("only")) != nil)
    }

    @Test func equalBytesHashEquallyAndNearbyInputsDiffer() {
        #expect(ByteHash.hash(bytes("abc")) == ByteHash.hash(bytes("abc")))
        let hashes = Set((0..<10_000).map { ByteHash.hash(bytes("key:\($0)")) })
        #expect(hashes.count == 10_000)
        #expect(ByteHash.hash([]) != ByteHash.hash([0]))
    }
}
