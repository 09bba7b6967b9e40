import Testing
import Glibc
@testable import JobdStore

/// A seeded generator so failures can be replayed.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Byte equality with memcmp: debug builds compare [UInt8] element by element, too slowly for megabytes.
func sameBytes(_ a: UnsafeRawBufferPointer, _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    if a.count == 0 { return true }
    return b.withUnsafeBytes { memcmp(a.baseAddress!, $0.baseAddress!, a.count) == 0 }
}

func sameElements(_ a: [[UInt8]], _ b: [[UInt8]]) -> Bool {
    guard a.count == b.count else { return false }
    for i in a.indices where !a[i].withUnsafeBytes({ sameBytes($0, b[i]) }) { return false }
    return true
}

/// The list holds exactly the model's elements, in order. Walks the nodes
/// in place (no copies), and also compares `elements` when `copies` is set.
private func check(_ list: ListValue, _ model: [[UInt8]], copies: Bool, _ context: @autoclosure () -> String) -> Bool {
    guard list.count == model.count, list.isEmpty == model.isEmpty else {
        Issue.record("count \(list.count) != \(model.count) at \(context())")
        return false
    }
    var index = 0
    var same = true
    list.forEach { data in
        same = index < model.count && sameBytes(data, model[index])
        index += 1
        return same
    }
    guard same, index == model.count, !copies || sameElements(list.elements, model) else {
        Issue.record("elements differ at \(context()) (index \(index - 1))")
        return false
    }
    return true
}

@Suite struct ListValueTests {
    /// Sizes from empty to larger than a node (8 KiB), so nodes split and single entries overflow one;
    /// 127/128 and 16383/16384 are where the length prefix gets longer.
    static func element(_ rng: inout SeededRandom, _ pool: [[UInt8]]) -> [UInt8] {
        let roll = Int.random(in: 0..<100, using: &rng)
        if roll < 15 { return pool[Int.random(in: 0..<pool.count, using: &rng)] }  // duplicates for LREM
        let size: Int
        switch roll {
        case ..<60: size = Int.random(in: 0...130, using: &rng)
        case ..<85: size = Int.random(in: 131...3000, using: &rng)
        case ..<92: size = [127, 128, 16_383, 16_384, 8192, 8190][Int.random(in: 0..<6, using: &rng)]
        case ..<97: size = Int.random(in: 3001...10_000, using: &rng)
        default: size = Int.random(in: 10_001...20_000, using: &rng)
        }
        let seed = UInt8.random(in: 0...255, using: &rng)
        return (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) ^ seed }
    }

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func randomOperationsMatchAnArrayModel(seed: UInt64) {
        var rng = SeededRandom(state: seed)
        let pool: [[UInt8]] = [[], Array("job".utf8), [UInt8](repeating: 9, count: 200), [UInt8](repeating: 7, count: 9000)]
        let list = ListValue()
        var model: [[UInt8]] = []
        var maxCount = 0
        for step in 0..<2000 {
            // Drift: grow for a while, then shrink, so the list passes through empty and through many nodes.
            let growing = (step / 300) % 2 == 0
            let e = Self.element(&rng, pool)
            let op = Int.random(in: 0..<16, using: &rng)
            switch op {
            case 0, 1:
                if growing || op == 0 { list.pushFront(e); model.insert(e, at: 0) }
            case 2, 3:
                if growing || op == 2 { list.pushBack(e); model.append(e) }
            case 4:
                let popped = list.popFront()
                let expected = model.isEmpty ? nil : model.removeFirst()
                #expect(popped == expected, "popFront at \(step)")
            case 5:
                let popped = list.popBack { sameBytes($0, model.last ?? []) }
                #expect(popped == (model.isEmpty ? nil : true), "popBack at \(step)")
                if !model.isEmpty { model.removeLast() }
            case 6:
                let n = Int.random(in: 0...(growing ? 3 : 12), using: &rng)
                list.removeFirst(n); model.removeFirst(min(n, model.count))
            case 7:
                let n = Int.random(in: 0...(growing ? 3 : 12), using: &rng)
                list.removeLast(n); model.removeLast(min(n, model.count))
            case 8:
                let i = Int.random(in: -1...model.count, using: &rng)
                let done = e.withUnsafeBytes { list.set(at: i, to: $0) }
                #expect(done == model.indices.contains(i))
                if model.indices.contains(i) { model[i] = e }
            case 9, 10:
                let i = Int.random(in: 0...model.count, using: &rng)
                e.withUnsafeBytes { list.insert($0, at: i) }
                model.insert(e, at: i)
            case 11:
                let target = Bool.random(using: &rng) || model.isEmpty ? e : model[Int.random(in: 0..<model.count, using: &rng)]
                let limit = Int.random(in: 0...3, using: &rng)
                let fromBack = Bool.random(using: &rng)
                let removed = target.withUnsafeBytes { list.removeAll(equalTo: $0, limit: limit, fromBack: fromBack) }
                var matches = model.indices.filter { model[$0] == target }
                if fromBack { matches.reverse() }
                if limit > 0 { matches = Array(matches.prefix(limit)) }
                for i in matches.sorted(by: >) { model.remove(at: i) }
                #expect(removed == matches.count, "removeAll at \(step)")
            case 12:
                let i = Int.random(in: -1...model.count, using: &rng)
                let seen = list.element(at: i) { Array($0) }
                #expect(seen == (model.indices.contains(i) ? model[i] : nil), "element(at: \(i)) at \(step)")
                let target = model.isEmpty ? e : model[Int.random(in: 0..<model.count, using: &rng)]
                #expect(target.withUnsafeBytes { list.firstIndex(of: $0) } == model.firstIndex(of: target))
            case 13:
                let start = Int.random(in: 0...model.count, using: &rng)
                let stopAfter = Int.random(in: 1...40, using: &rng)
                var seen: [[UInt8]] = []
                list.forEach(from: start) { seen.append(Array($0)); return seen.count < stopAfter }
                #expect(sameElements(seen, Array(model[start...].prefix(stopAfter))), "forEach(from: \(start)) at \(step)")
            case 14:
                let stopAfter = Int.random(in: 1...(model.count + 1), using: &rng)
                var reversed: [[UInt8]] = []
                list.forEachReversed { reversed.append(Array($0)); return reversed.count < stopAfter }
                #expect(sameElements(reversed, Array(model.reversed().prefix(stopAfter))), "forEachReversed at \(step)")
            default:
                // A burst of pushes of small items, as a queue producer does.
                for i in 0..<Int.random(in: 1...12, using: &rng) {
                    let small = Array("job-\(step)-\(i)".utf8)
                    list.pushFront(small); model.insert(small, at: 0)
                }
            }
            maxCount = max(maxCount, model.count)
            if !check(list, model, copies: step % 16 == 0, "seed \(seed) step \(step) op \(op)") { return }
        }
        // The walk went through long lists of many nodes, not just a few elements.
        #expect(maxCount > 150, "largest list: \(maxCount)")
    }

    @Test func elementsLargerThanANodeKeepTheirBytes() {
        let list = ListValue()
        let big = (0..<20_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let small = Array("x".utf8)
        list.pushBack(small)
        list.pushBack(big)
        list.pushFront(big)
        list.pushBack(small)
        big.withUnsafeBytes { list.insert($0, at: 2) }
        small.withUnsafeBytes { list.insert($0, at: 3) }
        let expected = [big, small, big, small, big, small]
        #expect(sameElements(list.elements, expected))
        for i in 0..<expected.count { #expect(list.element(at: i) { sameBytes($0, expected[i]) } == true) }
        #expect(big.withUnsafeBytes { list.removeAll(equalTo: $0, limit: 0, fromBack: false) } == 3)
        #expect(list.elements == [small, small, small])
    }

    @Test func manyInsertsInTheMiddleOfOneNodeStayInOrder() {
        // Inserting in the middle grows one node past twice the target size, which splits it.
        let list = ListValue()
        var model: [[UInt8]] = []
        for i in 0..<3000 {
            let e = Array("middle-\(i)-".utf8) + [UInt8](repeating: UInt8(i % 251), count: i % 90)
            let at = model.count / 2
            e.withUnsafeBytes { list.insert($0, at: at) }
            model.insert(e, at: at)
        }
        #expect(sameElements(list.elements, model))
        #expect(list.allocatedBytes < 3 * model.reduce(0) { $0 + $1.count + 4 })
        for i in stride(from: 0, to: model.count, by: 97) {
            #expect(list.element(at: i) { Array($0) } == model[i])
        }
    }

    @Test func theEmptyListAnswersEverythingSafely() {
        let list = ListValue()
        #expect(list.popFront() == nil && list.popBack() == nil)
        #expect(list.element(at: 0) { _ in true } == nil)
        #expect(list.element(at: -1) { _ in true } == nil)
        #expect(!Array("a".utf8).withUnsafeBytes { list.set(at: 0, to: $0) })
        #expect(Array("a".utf8).withUnsafeBytes { list.firstIndex(of: $0) } == nil)
        #expect(Array("a".utf8).withUnsafeBytes { list.removeAll(equalTo: $0, limit: 0, fromBack: true) } == 0)
        list.removeFirst(5)
        list.removeLast(5)
        var calls = 0
        list.forEach { _ in calls += 1; return true }
        list.forEach(from: 3) { _ in calls += 1; return true }
        list.forEachReversed { _ in calls += 1; return true }
        #expect(calls == 0 && list.count == 0 && list.isEmpty && list.elements.isEmpty)
        list.pushBack(Array("a".utf8))
        list.removeFirst(10)
        #expect(list.isEmpty && list.allocatedBytes == 0)
    }

    @Test func aQueueOfSmallJobsCostsAboutItsPayload() {
        // LPUSH/RPOP of 100-byte payloads: packed nodes, ~102 bytes per element.
        let list = ListValue()
        let payload = [UInt8](repeating: 7, count: 100)
        for _ in 0..<100_000 { list.pushFront(payload) }
        #expect(list.count == 100_000)
        #expect(list.allocatedBytes < 100_000 * 112)
        var same = 0
        while let ok = list.popBack({ sameBytes($0, payload) }) { if ok { same += 1 } }
        #expect(same == 100_000)
        #expect(list.isEmpty && list.allocatedBytes == 0)
    }
}

@Suite struct RingDequeTests {
    @Test(arguments: [42, 43] as [UInt64])
    func randomOperationsMatchAnArray(seed: UInt64) {
        var rng = SeededRandom(state: seed)
        var deque = RingDeque<Int>()
        var model: [Int] = []
        for step in 0..<6000 {
            // Grow to thousands, then drain, so the ring both grows and shrinks.
            let phase = (step / 1500) % 2
            var op = Int.random(in: 0..<10, using: &rng)
            if phase == 0 && op >= 2 && op <= 5 && Bool.random(using: &rng) { op = 0 }
            if phase == 1 && op <= 1 && Int.random(in: 0..<4, using: &rng) > 0 { op = 2 }
            switch op {
            case 0: deque.append(step); model.append(step)
            case 1: deque.prepend(step); model.insert(step, at: 0)
            case 2 where !model.isEmpty: #expect(deque.removeFirst() == model.removeFirst())
            case 3 where !model.isEmpty: #expect(deque.removeLast() == model.removeLast())
            case 4:
                let i = Int.random(in: 0...model.count, using: &rng)
                deque.insert(step, at: i); model.insert(step, at: i)
            case 5 where !model.isEmpty:
                let i = Int.random(in: 0..<model.count, using: &rng)
                #expect(deque.remove(at: i) == model.remove(at: i))
            case 6 where !model.isEmpty:
                let victim = model[Int.random(in: 0..<model.count, using: &rng)]
                #expect(deque.removeFirst { $0 == victim })
                model.remove(at: model.firstIndex(of: victim)!)
            case 7:
                #expect(!deque.removeFirst { $0 < 0 }, "no element matches")
            case 8 where !model.isEmpty:
                let i = Int.random(in: 0..<model.count, using: &rng)
                deque[i] = 1_000_000 + step; model[i] = 1_000_000 + step
            case 9 where step % 997 == 0:
                deque.removeAll(); model.removeAll()
            default: break
            }
            #expect(deque.count == model.count && deque.isEmpty == model.isEmpty)
            #expect(deque.first == model.first && deque.last == model.last)
            if Array(deque) != model { Issue.record("diverged at step \(step)"); return }
        }
    }

    @Test func indexingFollowsTheLogicalOrderAcrossTheWrap() {
        var deque = RingDeque<String>()
        for i in 0..<3 { deque.append("b\(i)") }
        for i in 0..<3 { deque.prepend("a\(i)") }  // wraps around the start of the storage
        #expect(Array(deque) == ["a2", "a1", "a0", "b0", "b1", "b2"])
        #expect(deque[0] == "a2" && deque[5] == "b2")
        for _ in 0..<1000 { deque.append("x"); deque.removeFirst() }
        #expect(deque.count == 6 && deque.last == "x")
    }

    @Test func aDrainedDequeGivesBackItsMemoryAndKeepsWorking() {
        var deque = RingDeque<[Int]>()
        for i in 0..<10_000 { deque.append([i]) }
        while deque.count > 3 { deque.removeFirst() }
        #expect(Array(deque) == [[9997], [9998], [9999]])
        deque.prepend([1])
        #expect(deque.first == [1] && deque.count == 4)
    }
}
