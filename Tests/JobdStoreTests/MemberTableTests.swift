import Testing
@testable import JobdStore

/// MemberTable against a Swift dictionary model: inserts, updates, removals
/// (through growth, shrinking and compaction), enumeration and SCAN.
struct MemberTableTests {
    private func bytes(_ n: Int) -> [UInt8] { Array("member:\(n)".utf8) }

    private func check(_ table: MemberTable<Int>, _ model: [[UInt8]: Int]) {
        #expect(table.count == model.count)
        var seen: [[UInt8]: Int] = [:]
        table.forEach { member, payload in seen[member] = payload }
        #expect(seen == model)
        for (member, payload) in model {
            guard let slot = table.find(member) else { Issue.record("missing \(member)"); continue }
            #expect(table[slot] == payload)
        }
    }

    @Test func randomOperationsMatchADictionary() {
        var rng = SeededRandom(state: 7)
        let table = MemberTable<Int>(empty: 0)
        var model: [[UInt8]: Int] = [:]
        for step in 0..<40_000 {
            // Phases of growth and of shrinking so resizes and compaction both happen.
            let growing = (step / 5_000) % 2 == 0
            let member = bytes(Int.random(in: 0..<3_000, using: &rng))
            if Bool.random(using: &rng) == growing || model.isEmpty {
                if let slot = table.find(member) { table[slot] = step } else { table.insert(member, step) }
                model[member] = step
            } else {
                let removed = member.withUnsafeBytes { table.remove($0) }
                #expect(removed == model.removeValue(forKey: member))
            }
            if step % 2_500 == 0 { check(table, model) }
        }
        check(table, model)
    }

    @Test func emptiedTableForgetsItsSlots() {
        let table = MemberTable<Int>(empty: 0)
        for i in 0..<1_000 { table.insert(bytes(i), i) }
        for i in 0..<1_000 { bytes(i).withUnsafeBytes { _ = table.remove($0) } }
        #expect(table.count == 0)
        #expect(table.slotCount == 0)
        #expect(table.find(bytes(1)) == nil)
    }

    /// SCAN's promise: a member present for the whole scan is returned, even
    /// when the table grows and shrinks between steps.
    @Test func scanReturnsEveryMemberPresentThroughoutDespiteResizes() {
        var rng = SeededRandom(state: 11)
        let table = MemberTable<Int>(empty: 0)
        for i in 0..<2_000 { table.insert(bytes(i), i) }
        var returned = Set<[UInt8]>()
        var cursor: UInt64 = 0
        var extra = 10_000
        var steps = 0
        repeat {
            cursor = table.scan(cursor: cursor, atLeast: 50) { returned.insert(table.members[$0]) }
            steps += 1
            // Churn members other than the stable 0..<1000: grow by thousands, then shrink.
            if steps < 20 {
                for _ in 0..<300 { table.insert(bytes(extra), extra); extra += 1 }
            } else {
                for _ in 0..<300 {
                    let victim = bytes(Int.random(in: 1_000..<extra, using: &rng))
                    victim.withUnsafeBytes { _ = table.remove($0) }
                }
            }
        } while cursor != 0 && steps < 100_000
        #expect(cursor == 0)
        for i in 0..<1_000 { #expect(returned.contains(bytes(i)), "member \(i) was never returned") }
    }

    @Test func randomSlotsAreUsedSlots() {
        var rng = SeededRandom(state: 3)
        let table = MemberTable<Int>(empty: 0)
        for i in 0..<500 { table.insert(bytes(i), i) }
        for i in stride(from: 0, to: 500, by: 3) { bytes(i).withUnsafeBytes { _ = table.remove($0) } }
        for _ in 0..<2_000 {
            let slot = table.randomSlot(using: &rng)
            #expect(table.isUsed(slot))
        }
    }
}
