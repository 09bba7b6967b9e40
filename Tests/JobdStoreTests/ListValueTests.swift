import Testing
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

@Suite struct ListValueTests {
    /// Element sizes from empty to larger than a node, so nodes split and single entries overflow.
    static func element(_ rng: inout SeededRandom, _ n: Int) -> [UInt8] {
        let sizes = [0, 1, 5, 100, 127, 128, 16_383, 16_384, 20_000]
        let size = sizes[Int.random(in: 0..<sizes.count, using: &rng)]
        return [UInt8](repeating: UInt8(truncatingIfNeeded: n), count: size)
    }

    @Test(arguments: [1, 2, 3, 4])
    func randomOperationsMatchAnArrayModel(seed: UInt64) {
        var rng = SeededRandom(state: seed)
        let list = ListValue()
        var model: [[UInt8]] = []
        for step in 0..<3000 {
            let e = Self.element(&rng, step)
            switch Int.random(in: 0..<12, using: &rng) {
            case 0: list.pushFront(e); model.insert(e, at: 0)
            case 1: list.pushBack(e); model.append(e)
            case 2: #expect(list.popFront() == (model.isEmpty ? nil : model.removeFirst()))
            case 3: #expect(list.popBack() == model.popLast())
            case 4:
                let n = Int.random(in: 0...3, using: &rng)
                list.removeFirst(n); model.removeFirst(min(n, model.count))
            case 5:
                let n = Int.random(in: 0...3, using: &rng)
                list.removeLast(n); model.removeLast(min(n, model.count))
            case 6 where !model.isEmpty:
                let i = Int.random(in: 0..<model.count, using: &rng)
                e.withUnsafeBytes { _ = list.set(at: i, to: $0) }
                model[i] = e
            case 7:
                let i = Int.random(in: 0...model.count, using: &rng)
                e.withUnsafeBytes { list.insert($0, at: i) }
                model.insert(e, at: i)
            case 8 where !model.isEmpty:
                let target = model[Int.random(in: 0..<model.count, using: &rng)]
                let limit = Int.random(in: 0...2, using: &rng)
                let fromBack = Bool.random(using: &rng)
                let removed = target.withUnsafeBytes { list.removeAll(equalTo: $0, limit: limit, fromBack: fromBack) }
                var expected = 0
                var indices = Array(model.indices)
                if fromBack { indices.reverse() }
                var toRemove: [Int] = []
                for i in indices where model[i] == target && (limit == 0 || expected < limit) {
                    toRemove.append(i)
                    expected += 1
                }
                for i in toRemove.sorted(by: >) { model.remove(at: i) }
                #expect(removed == expected)
            case 9 where !model.isEmpty:
                let i = Int.random(in: 0..<model.count, using: &rng)
                #expect(list.element(at: i) { Array($0) } == model[i])
                let target = model[i]
                #expect(target.withUnsafeBytes { list.firstIndex(of: $0) } == model.firstIndex(of: target))
            case 10 where !model.isEmpty:
                let start = Int.random(in: 0..<model.count, using: &rng)
                var seen: [[UInt8]] = []
                list.forEach(from: start) { seen.append(Array($0)); return true }
                #expect(seen == Array(model[start...]))
            case 11:
                var reversed: [[UInt8]] = []
                list.forEachReversed { reversed.append(Array($0)); return true }
                #expect(reversed == model.reversed())
            default:
                break
            }
            #expect(list.count == model.count)
            if step % 100 == 0 { #expect(list.elements == model, "seed \(seed) step \(step)") }
        }
        #expect(list.elements == model)
    }

    @Test func aQueueOfSmallJobsCostsAboutItsPayload() {
        // LPUSH/RPOP of 100-byte payloads: packed nodes, ~102 bytes per element.
        let list = ListValue()
        let payload = [UInt8](repeating: 7, count: 100)
        for _ in 0..<100_000 { list.pushFront(payload) }
        #expect(list.allocatedBytes < 100_000 * 112)
        for _ in 0..<100_000 { #expect(list.popBack() == payload) }
        #expect(list.isEmpty && list.allocatedBytes == 0)
    }
}

@Suite struct RingDequeTests {
    @Test func randomOperationsMatchAnArray() {
        var rng = SeededRandom(state: 42)
        var deque = RingDeque<Int>()
        var model: [Int] = []
        for step in 0..<5000 {
            switch Int.random(in: 0..<7, using: &rng) {
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
            default: break
            }
            #expect(Array(deque) == model)
            #expect(deque.first == model.first && deque.last == model.last)
        }
    }
}
