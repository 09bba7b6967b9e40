import Testing
@testable import JobdStore

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// The model's order, written independently of ScoreList.compare: score,
/// then unsigned lexicographic bytes (a prefix sorts first).
private func before(_ a: (Double, [UInt8]), _ b: (Double, [UInt8])) -> Bool {
    a.0 < b.0 || (a.0 == b.0 && a.1.lexicographicallyPrecedes(b.1))
}

/// Same score bits (so -0.0 and 0.0 are told apart) and same member.
private func same(_ a: (Double, [UInt8])?, _ b: (Double, [UInt8])?) -> Bool {
    switch (a, b) {
    case (nil, nil): return true
    case let (x?, y?): return x.0.bitPattern == y.0.bitPattern && x.1 == y.1
    default: return false
    }
}

private func collect(_ list: ScoreList, from rank: Int, reverse: Bool, limit: Int = .max) -> [(Double, [UInt8])] {
    var seen: [(Double, [UInt8])] = []
    list.forEach(fromRank: rank, reverse: reverse) { score, member in
        seen.append((score, member))
        return seen.count < limit
    }
    return seen
}

private func sameSequence(_ a: [(Double, [UInt8])], _ b: ArraySlice<(Double, [UInt8])>) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { same($0, $1) }
}

/// The whole list, both ways, against the model, plus the structure checks.
private func check(_ list: ScoreList, _ model: [(Double, [UInt8])], _ context: @autoclosure () -> String) -> Bool {
    guard list.count == model.count, list.checkInvariants() else {
        Issue.record("count \(list.count) vs \(model.count) or broken links at \(context())")
        return false
    }
    guard sameSequence(collect(list, from: 0, reverse: false), model[...]),
        sameSequence(collect(list, from: 0, reverse: true), ArraySlice(model.reversed())) else {
        Issue.record("elements differ at \(context())")
        return false
    }
    return true
}

/// Members over {0x00, 'a', 'b', 0xFF} of length 0...3: prefixes, empty, and bytes above 0x7F (memcmp is unsigned).
private let memberPool: [[UInt8]] = {
    var pool: [[UInt8]] = [[]]
    var layer: [[UInt8]] = [[]]
    for _ in 0..<3 {
        layer = layer.flatMap { m in [0x00, 0x61, 0x62, 0xFF].map { m + [$0] } }
        pool += layer
    }
    // Plus plain names, so the list reaches a few hundred elements and several levels.
    return pool + (0..<300).map { Array("member:\($0)".utf8) }
}()

private let scorePool: [Double] = [-.infinity, -2.5, -1, -0.0, 0.0, 0.0, 1, 1, 3.25, .infinity]

private func randomScore(_ rng: inout SeededRandom) -> Double {
    Bool.random(using: &rng) ? scorePool.randomElement(using: &rng)! : Double(Int.random(in: -8...8, using: &rng)) / 2
}

@Suite struct ScoreListTests {
    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func randomOperationsMatchASortedArray(seed: UInt64) {
        var rng = SeededRandom(state: seed)
        let list = ScoreList()
        var model: [(Double, [UInt8])] = []
        var scores: [[UInt8]: Double] = [:]
        func index(_ e: (Double, [UInt8])) -> Int { model.firstIndex { !before($0, e) } ?? model.count }
        var largest = 0
        for step in 0..<8000 {
            // Grow and shrink in phases so the list passes through empty and through a few levels.
            let growing = (step / 800) % 2 == 0
            largest = max(largest, model.count)
            if step == 2000 {  // mid-growth: the list is refilled after being emptied
                list.removeAll()
                model.removeAll()
                scores.removeAll()
                guard check(list, model, "removeAll") else { return }
            }
            let member = memberPool.randomElement(using: &rng)!
            // Growing phases add extra inserts so the list reaches a few hundred elements.
            switch growing && Int.random(in: 0..<3, using: &rng) == 0 ? 0 : Int.random(in: 0..<13, using: &rng) {
            case 0, 1, 2:
                let score = randomScore(&rng)
                if let old = scores[member] {
                    list.updateScore(member: member, from: old, to: score)
                    model.remove(at: index((old, member)))
                } else if growing || Bool.random(using: &rng) {
                    list.insert(score: score, member: member)
                } else { continue }
                model.insert((score, member), at: index((score, member)))
                scores[member] = score
            case 3:
                let score = scores[member] ?? randomScore(&rng)
                let present = scores[member] != nil
                if present && (growing && Bool.random(using: &rng)) { continue }
                #expect(list.remove(score: score, member: member) == present, "remove at \(step)")
                // Absent with a present member but another score: still not removed.
                if !present, let other = model.first, other.0.isFinite { #expect(!list.remove(score: other.0 + 0.25, member: other.1)) }
                if present { model.remove(at: index((score, member))); scores[member] = nil }
            case 4:
                if let score = scores[member] {
                    #expect(list.rank(score: score, member: member) == index((score, member)), "rank at \(step)")
                    #expect(list.rank(score: score.isFinite ? score + 0.125 : 0.125, member: member) == nil)
                } else {
                    #expect(list.rank(score: randomScore(&rng), member: member) == nil)
                }
            case 5:
                let rank = Int.random(in: -2...model.count + 1, using: &rng)
                let expected = model.indices.contains(rank) ? model[rank] : nil
                #expect(same(list.element(atRank: rank).map { ($0.score, $0.member) }, expected), "element(atRank: \(rank)) at \(step)")
            case 6, 7:
                let rank = Int.random(in: -1...model.count, using: &rng)
                let reverse = Bool.random(using: &rng)
                let limit = Int.random(in: 1...model.count + 2, using: &rng)
                let seen = collect(list, from: rank, reverse: reverse, limit: limit)
                let expected: ArraySlice<(Double, [UInt8])>
                if !model.indices.contains(rank) {
                    expected = []
                } else if reverse {
                    let start = model.count - 1 - rank
                    expected = ArraySlice(model[max(0, start - limit + 1)...start].reversed())
                } else {
                    expected = model[rank..<min(model.count, rank + limit)]
                }
                #expect(sameSequence(seen, expected), "forEach(fromRank: \(rank), reverse: \(reverse)) limit \(limit) at \(step)")
            case 8, 9, 10:
                let range = ScoreList.ScoreRange(
                    min: randomScore(&rng), minExclusive: Bool.random(using: &rng),
                    max: randomScore(&rng), maxExclusive: Bool.random(using: &rng))
                func inRange(_ s: Double) -> Bool {
                    (range.minExclusive ? s > range.min : s >= range.min) && (range.maxExclusive ? s < range.max : s <= range.max)
                }
                let first = model.firstIndex { inRange($0.0) }
                let last = model.lastIndex { inRange($0.0) }
                #expect(list.firstRank(in: range) == first, "firstRank \(range) at \(step)")
                #expect(list.lastRank(in: range) == last, "lastRank \(range) at \(step)")
                #expect(list.count(in: range) == model.count { inRange($0.0) }, "count \(range) at \(step)")
            case 11:
                // Mostly short runs; sometimes unclamped bounds, which removeRanks clamps again.
                var start = Int.random(in: -2...model.count + 1, using: &rng)
                var end = start + Int.random(in: -1...(growing ? 1 : 30), using: &rng)
                if Bool.random(using: &rng) { start = max(start, 0); end = min(end, model.count - 1) }
                let lo = max(start, 0), hi = min(end, model.count - 1)
                let expected = lo <= hi ? model[lo...hi] : []
                var removed: [(Double, [UInt8])] = []
                let n = list.removeRanks(start, end) { removed.append(($0, $1)) }
                #expect(n == expected.count && sameSequence(removed, expected), "removeRanks(\(start), \(end)) at \(step)")
                for e in removed { scores[e.1] = nil }
                if lo <= hi { model.removeSubrange(lo...hi) }
            default:
                guard check(list, model, "step \(step)") else { return }
            }
        }
        _ = check(list, model, "end")
        #expect(largest >= 200, "the list grew to \(largest) elements")
    }

    /// Lex ranges over equal scores (-0.0 and 0.0 mixed: they are the same score).
    @Test(arguments: [11, 12, 13] as [UInt64])
    func lexRangesMatchTheModel(seed: UInt64) {
        var rng = SeededRandom(state: seed)
        let list = ScoreList()
        var model: [[UInt8]] = []
        func bound(_ rng: inout SeededRandom) -> ScoreList.LexBound {
            let m = memberPool.randomElement(using: &rng)!
            switch Int.random(in: 0..<8, using: &rng) {
            case 0: return .negativeInfinity
            case 1: return .positiveInfinity
            case 2, 3, 4: return .inclusive(m)
            default: return .exclusive(m)
            }
        }
        for step in 0..<3000 {
            let member = memberPool.randomElement(using: &rng)!
            let at = model.firstIndex { !$0.lexicographicallyPrecedes(member) } ?? model.count
            let present = at < model.count && model[at] == member
            switch Int.random(in: 0..<6, using: &rng) {
            case 0, 1:
                if !present {
                    list.insert(score: Bool.random(using: &rng) ? 0.0 : -0.0, member: member)
                    model.insert(member, at: at)
                }
            case 2:
                #expect(list.remove(score: 0.0, member: member) == present, "remove at \(step)")
                if present { model.remove(at: at) }
            default:
                let range = ScoreList.LexRange(min: bound(&rng), max: bound(&rng))
                func inRange(_ m: [UInt8]) -> Bool {
                    let aboveMin: Bool
                    switch range.min {
                    case .negativeInfinity: aboveMin = true
                    case .positiveInfinity: aboveMin = false
                    case .inclusive(let b): aboveMin = !m.lexicographicallyPrecedes(b)
                    case .exclusive(let b): aboveMin = b.lexicographicallyPrecedes(m)
                    }
                    switch range.max {
                    case .negativeInfinity: return false
                    case .positiveInfinity: return aboveMin
                    case .inclusive(let b): return aboveMin && !b.lexicographicallyPrecedes(m)
                    case .exclusive(let b): return aboveMin && m.lexicographicallyPrecedes(b)
                    }
                }
                #expect(list.firstRank(in: range) == model.firstIndex(where: inRange), "firstRank \(range) at \(step)")
                #expect(list.lastRank(in: range) == model.lastIndex(where: inRange), "lastRank \(range) at \(step)")
                #expect(list.count(in: range) == model.count(where: inRange), "count \(range) at \(step)")
            }
        }
        #expect(list.count == model.count && list.checkInvariants())
        #expect(collect(list, from: 0, reverse: false).map(\.1) == model)
    }

    @Test func emptyList() {
        let list = ScoreList()
        let all = ScoreList.ScoreRange(min: -.infinity, max: .infinity)
        let lexAll = ScoreList.LexRange(min: .negativeInfinity, max: .positiveInfinity)
        #expect(list.count == 0 && list.isEmpty && list.checkInvariants())
        #expect(list.element(atRank: 0) == nil && list.element(atRank: -1) == nil)
        #expect(list.first == nil && list.last == nil)
        #expect(list.rank(score: 0, member: []) == nil)
        #expect(!list.remove(score: 0, member: []))
        #expect(collect(list, from: 0, reverse: false).isEmpty && collect(list, from: 0, reverse: true).isEmpty)
        #expect(list.firstRank(in: all) == nil && list.lastRank(in: all) == nil && list.count(in: all) == 0)
        #expect(list.firstRank(in: lexAll) == nil && list.lastRank(in: lexAll) == nil && list.count(in: lexAll) == 0)
        #expect(list.removeRanks(0, 0) { _, _ in Issue.record("nothing to remove") } == 0)
        list.removeAll()
        #expect(list.count == 0 && list.checkInvariants())
    }

    @Test func singleElement() {
        let list = ScoreList()
        list.insert(score: 5, member: bytes("job"))
        #expect(list.count == 1 && list.checkInvariants())
        #expect(list.rank(score: 5, member: bytes("job")) == 0)
        #expect(list.rank(score: 5, member: bytes("jo")) == nil && list.rank(score: 4, member: bytes("job")) == nil)
        #expect(same(list.element(atRank: 0).map { ($0.score, $0.member) }, (5, bytes("job"))))
        #expect(list.element(atRank: 1) == nil)
        #expect(same(list.first.map { ($0.score, $0.member) }, list.last.map { ($0.score, $0.member) }))
        #expect(collect(list, from: 0, reverse: true).count == 1 && collect(list, from: 1, reverse: true).isEmpty)
        #expect(list.count(in: .init(min: 5, max: 5)) == 1)
        #expect(list.count(in: .init(min: 5, minExclusive: true, max: 5)) == 0)
        #expect(list.count(in: .init(min: 5, max: 5, maxExclusive: true)) == 0)
        #expect(list.count(in: .init(min: 6, max: 4)) == 0)
        #expect(list.firstRank(in: .init(min: 5, minExclusive: true, max: .infinity)) == nil)
        #expect(list.lastRank(in: .init(min: -.infinity, max: 5)) == 0)
        list.updateScore(member: bytes("job"), from: 5, to: -1)
        #expect(list.rank(score: -1, member: bytes("job")) == 0 && list.checkInvariants())
        var removed: [(Double, [UInt8])] = []
        #expect(list.removeRanks(0, 0) { removed.append(($0, $1)) } == 1)
        #expect(sameSequence(removed, [(-1, bytes("job"))]))
        #expect(list.count == 0 && list.checkInvariants())
    }

    /// -0.0 and 0.0 are one score: ties fall back to the member, and lookups
    /// with either sign find the element stored with the other.
    @Test func negativeZeroEqualsZero() {
        let list = ScoreList()
        list.insert(score: 0.0, member: bytes("b"))
        list.insert(score: -0.0, member: bytes("c"))
        list.insert(score: -0.0, member: bytes("a"))
        #expect(collect(list, from: 0, reverse: false).map(\.1) == [bytes("a"), bytes("b"), bytes("c")])
        #expect(list.rank(score: 0.0, member: bytes("a")) == 0 && list.rank(score: -0.0, member: bytes("b")) == 1)
        #expect(list.count(in: .init(min: 0, max: 0)) == 3 && list.count(in: .init(min: -0.0, max: 0.0)) == 3)
        #expect(list.count(in: .init(min: -0.0, minExclusive: true, max: .infinity)) == 0)
        #expect(list.count(in: .init(min: -1, max: -0.0, maxExclusive: true)) == 0)
        #expect(list.remove(score: 0.0, member: bytes("c")))
        // Moving a member between the two zeros keeps its place (and takes the new bits).
        list.updateScore(member: bytes("a"), from: -0.0, to: 0.0)
        #expect(list.element(atRank: 0)?.score.sign == .plus && list.rank(score: 0, member: bytes("a")) == 0)
        #expect(list.checkInvariants())
    }

    /// sdscmp order: a prefix first, the empty member before all, bytes compared unsigned.
    @Test func memberOrderIsBytewise() {
        let list = ScoreList()
        let members: [[UInt8]] = [bytes("ab"), [0xFF], bytes("b"), [], bytes("a"), bytes("a\u{0}"), bytes("abc"), [0x7F]]
        for m in members { list.insert(score: 1, member: m) }
        let expected: [[UInt8]] = [[], bytes("a"), bytes("a\u{0}"), bytes("ab"), bytes("abc"), bytes("b"), [0x7F], [0xFF]]
        #expect(collect(list, from: 0, reverse: false).map(\.1) == expected)
        #expect(list.rank(score: 1, member: bytes("ab")) == 3)
        #expect(list.count(in: .init(min: .inclusive(bytes("a")), max: .exclusive(bytes("b")))) == 4)
        #expect(list.firstRank(in: .init(min: .exclusive(bytes("a")), max: .positiveInfinity)) == 2)
        #expect(list.lastRank(in: .init(min: .negativeInfinity, max: .inclusive(bytes("abc")))) == 4)
        #expect(list.count(in: .init(min: .positiveInfinity, max: .positiveInfinity)) == 0)
        #expect(list.count(in: .init(min: .negativeInfinity, max: .negativeInfinity)) == 0)
        #expect(list.count(in: .init(min: .inclusive(bytes("b")), max: .exclusive(bytes("b")))) == 0)
        #expect(list.count(in: .init(min: .inclusive(bytes("b")), max: .inclusive(bytes("b")))) == 1)
        // Score first, then member: a lower score wins over a smaller member.
        list.insert(score: 0.5, member: [0xFF, 0xFF])
        #expect(list.rank(score: 0.5, member: [0xFF, 0xFF]) == 0)
    }

    /// Updates that keep the order change the score in place; others move the member, ties included.
    @Test func updateScoreMovesOnlyWhenNeeded() {
        let list = ScoreList()
        for (i, m) in ["a", "b", "c", "d"].enumerated() { list.insert(score: Double(i), member: bytes(m)) }
        list.updateScore(member: bytes("b"), from: 1, to: 1.5)  // stays between a(0) and c(2)
        #expect(list.rank(score: 1.5, member: bytes("b")) == 1)
        list.updateScore(member: bytes("b"), from: 1.5, to: 2)  // ties c, b < c: stays
        #expect(list.rank(score: 2, member: bytes("b")) == 1)
        list.updateScore(member: bytes("a"), from: 0, to: 2)  // ties b and c, a < b: still first
        #expect(list.rank(score: 2, member: bytes("a")) == 0)
        list.updateScore(member: bytes("d"), from: 3, to: 2)  // ties, d last: stays last
        list.updateScore(member: bytes("c"), from: 2, to: -1)
        #expect(collect(list, from: 0, reverse: false).map(\.1) == ["c", "a", "b", "d"].map(bytes))
        list.updateScore(member: bytes("c"), from: -1, to: 2)  // back among the ties, by member
        #expect(collect(list, from: 0, reverse: false).map(\.1) == ["a", "b", "c", "d"].map(bytes))
        #expect(list.checkInvariants())
    }

    /// A million random-level nodes: ranks stay O(log n), and dropping the list frees it.
    @Test func millionElementsWithRandomLevels() {
        let n = 1_000_000
        weak var released: ScoreList?
        do {
            let list = ScoreList()
            for i in 0..<n { list.insert(score: Double(i), member: []) }
            #expect(list.count == n)
            #expect(list.element(atRank: 765_432)?.score == 765_432)
            #expect(list.rank(score: 123_456, member: []) == 123_456)
            #expect(list.count(in: .init(min: 1000, minExclusive: true, max: 2000)) == 1000)
            released = list
        }
        #expect(released == nil, "the list was freed")
    }

    /// A flat chain of a million level-1 nodes (descending scores, so each
    /// insert is at the front): ARC would release it one nested call per node
    /// and overflow the stack, so removeAll and deinit must unlink iteratively.
    @Test func millionNodeChainReleasesWithoutDeepRecursion() {
        let n = 1_000_000
        let list = ScoreList()
        list.levelCap = 1
        for i in 0..<n { list.insert(score: Double(n - i), member: []) }
        #expect(list.count == n && list.element(atRank: 0)?.score == 1)
        list.removeAll()
        #expect(list.count == 0 && list.checkInvariants())
        list.insert(score: 1, member: bytes("again"))
        #expect(list.rank(score: 1, member: bytes("again")) == 0)
        weak var released: ScoreList?
        do {
            let dropped = ScoreList()
            dropped.levelCap = 1
            for i in 0..<n { dropped.insert(score: Double(n - i), member: []) }
            #expect(dropped.count == n)
            released = dropped
        }
        #expect(released == nil, "the list was freed")
    }
}
