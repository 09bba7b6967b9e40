import Testing
import Glibc
@testable import JobdStore

// MARK: - Helpers

/// `DroppedJobTags.tags` is one global for the whole test process, and
/// JobEngineTests (another module, run in parallel) touches it too: the
/// suites that do take this file lock (flock on separate descriptors
/// excludes threads of one process as well) and start from an empty list.
private func withDroppedTags<R>(_ body: () throws -> R) rethrows -> R {
    let fd = open("/tmp/jobd-tests-dropped-job-tags.lock", O_CREAT | O_RDWR, 0o644)
    if fd >= 0 { _ = flock(fd, LOCK_EX) }
    defer {
        DroppedJobTags.tags.removeAll()
        if fd >= 0 { _ = flock(fd, LOCK_UN); close(fd) }
    }
    DroppedJobTags.tags.removeAll()
    return try body()
}

/// Distinct bytes of length `n` (a seed keeps equal sizes apart).
private func payload(_ n: Int, _ seed: UInt8) -> [UInt8] {
    (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 7) ^ seed }
}

/// Tags with bytes in every position, to catch a tag read with the wrong width or byte order.
private func tag(_ i: Int) -> UInt64 { 0xA1B2_C3D4_0000_0000 | UInt64(i) }

private func tags(_ list: ListValue) -> [(index: Int, tag: UInt64)] {
    var out: [(Int, UInt64)] = []
    list.forEachTagged { i, t in out.append((i, t)); return true }
    return out
}

private func jobs(_ list: ListValue) -> [(data: [UInt8], tag: UInt64, level: Int)] {
    var out: [([UInt8], UInt64, Int)] = []
    list.forEachJob { data, tag, level in out.append((Array(data), tag, level)) }
    return out
}

private func push(_ list: ListValue, _ bytes: [UInt8], front: Bool, tag: UInt64) {
    bytes.withUnsafeBytes { front ? list.pushFront($0, tag: tag) : list.pushBack($0, tag: tag) }
}

/// Sizes where the length prefix changes width: tagged entries add 8 bytes
/// of tag, so 119/120 and 16375/16376 cross the 1→2 and 2→3 byte varints.
private let sizes = [0, 1, 100, 119, 120, 127, 128, 200, 16_375, 16_376, 20_000]

@Suite(.serialized) struct ListValueJobsTests {
    // MARK: Tags at the ends

    @Test func taggedAndPlainEntriesRoundTripThroughPushesAndPopsAtBothEnds() {
        withDroppedTags {
            let list = ListValue()
            var model: [([UInt8], UInt64)] = []
            for (i, size) in sizes.enumerated() {
                for variant in 0..<4 {
                    let bytes = payload(size, UInt8(i * 4 + variant))
                    let t: UInt64 = variant % 2 == 0 ? tag(i * 4 + variant) : 0
                    let front = variant >= 2
                    push(list, bytes, front: front, tag: t)
                    if front { model.insert((bytes, t), at: 0) } else { model.append((bytes, t)) }
                }
            }
            #expect(list.count == model.count)
            #expect(list.taggedCount == model.filter { $0.1 != 0 }.count)
            // forEach and element(at:) show the bytes without the tag.
            #expect(sameElements(list.elements, model.map(\.0)))
            for i in model.indices {
                #expect(list.element(at: i) { sameBytes($0, model[i].0) } == true, "element(at: \(i))")
            }
            var reversed: [[UInt8]] = []
            list.forEachReversed { reversed.append(Array($0)); return true }
            #expect(sameElements(reversed, model.map(\.0).reversed()))
            let expectedTags = model.enumerated().filter { $0.element.1 != 0 }.map { ($0.offset, $0.element.1) }
            #expect(tags(list).map(\.index) == expectedTags.map(\.0))
            #expect(tags(list).map(\.tag) == expectedTags.map(\.1))
            #expect(DroppedJobTags.tags.isEmpty)

            // Alternate pops: each tagged element popped by a plain pop is reported.
            var reported: [UInt64] = []
            var fromBack = true
            while !model.isEmpty {
                let expected = fromBack ? model.removeLast() : model.removeFirst()
                let got = fromBack ? list.popBack() : list.popFront()
                #expect(got.map { $0.withUnsafeBytes { sameBytes($0, expected.0) } } == true)
                if expected.1 != 0 { reported.append(expected.1) }
                #expect(DroppedJobTags.tags == reported)
                #expect(list.taggedCount == model.filter { $0.1 != 0 }.count)
                #expect(list.count == model.count)
                fromBack.toggle()
            }
            #expect(list.popBack() == nil)
            #expect(list.popFront() == nil)
        }
    }

    @Test func lsetKeepsTheTagWhateverTheNewSize() {
        withDroppedTags {
            let list = ListValue()
            push(list, payload(10, 1), front: false, tag: tag(1))
            push(list, payload(10, 2), front: false, tag: 0)
            push(list, payload(10, 3), front: false, tag: UInt64.max)
            for size in [0, 200, 20_000, 5, 16_376] {
                let a = payload(size, 9), c = payload(size, 11)
                #expect(a.withUnsafeBytes { list.set(at: 0, to: $0) })
                #expect(c.withUnsafeBytes { list.set(at: 2, to: $0) })
                #expect(a.withUnsafeBytes { list.set(at: 1, to: $0) })
                #expect(list.taggedCount == 2)
                #expect(tags(list).map(\.index) == [0, 2])
                #expect(tags(list).map(\.tag) == [tag(1), UInt64.max])
                #expect(sameElements(list.elements, [a, a, c]))
            }
            #expect(payload(1, 0).withUnsafeBytes { list.set(at: 3, to: $0) } == false)
            #expect(DroppedJobTags.tags.isEmpty)
        }
    }

    @Test func removeEntryAndRemoveTagTakeTheRightElementWithoutReportingIt() {
        withDroppedTags {
            let list = ListValue()
            for i in 0..<6 { push(list, payload(i == 3 ? 20_000 : 200, UInt8(i)), front: false, tag: i % 2 == 0 ? tag(i) : 0) }
            #expect(list.taggedCount == 3)
            #expect(list.removeEntry(at: 2) == tag(2))
            #expect(list.removeEntry(at: 2) == 0)  // was index 3, untagged
            #expect(list.count == 4)
            #expect(list.taggedCount == 2)
            #expect(list.remove(tag: tag(4)))
            #expect(!list.remove(tag: tag(4)))
            #expect(!list.remove(tag: tag(99)))
            #expect(sameElements(list.elements, [payload(200, 0), payload(200, 1), payload(200, 5)]))
            #expect(tags(list).map(\.tag) == [tag(0)])
            #expect(list.taggedCount == 1)
            #expect(list.remove(tag: tag(0)))
            #expect(list.taggedCount == 0)
            #expect(!list.remove(tag: tag(0)))
            #expect(DroppedJobTags.tags.isEmpty)
        }
    }

    @Test func bulkRemovalsReportEveryTaggedElementTheyDrop() {
        withDroppedTags {
            let list = ListValue()
            for i in 0..<10 { push(list, payload(i % 3 == 0 ? 200 : 4, UInt8(i)), front: false, tag: tag(i)) }
            list.removeFirst(3)
            #expect(DroppedJobTags.tags == [tag(0), tag(1), tag(2)])
            list.removeLast(2)
            #expect(DroppedJobTags.tags == [tag(0), tag(1), tag(2), tag(9), tag(8)])
            #expect(list.count == 5)
            #expect(list.taggedCount == 5)
            #expect(tags(list).map(\.tag) == (3...7).map(tag))
            DroppedJobTags.tags.removeAll()
            list.removeFirst(100)  // more than it holds
            #expect(list.isEmpty)
            #expect(list.taggedCount == 0)
            #expect(DroppedJobTags.tags == (3...7).map(tag))
        }
    }

    @Test func lremStyleRemovalReportsTheTagsOfTheMatchesItRemoves() {
        withDroppedTags {
            let list = ListValue()
            let x = payload(200, 1), y = payload(3, 2)
            // x y x y x x, tags 1...6 except the y's untagged
            let content = [x, y, x, y, x, x]
            for (i, bytes) in content.enumerated() { push(list, bytes, front: false, tag: bytes == x ? tag(i + 1) : 0) }
            let fromBack = x.withUnsafeBytes { list.removeAll(equalTo: $0, limit: 2, fromBack: true) }
            #expect(fromBack == 2)
            #expect(Set(DroppedJobTags.tags) == [tag(5), tag(6)])
            #expect(DroppedJobTags.tags.count == 2)
            DroppedJobTags.tags.removeAll()
            let fromFront = x.withUnsafeBytes { list.removeAll(equalTo: $0, limit: 1, fromBack: false) }
            #expect(fromFront == 1)
            #expect(DroppedJobTags.tags == [tag(1)])
            DroppedJobTags.tags.removeAll()
            let untagged = y.withUnsafeBytes { list.removeAll(equalTo: $0, limit: 0, fromBack: false) }
            #expect(untagged == 2)
            #expect(DroppedJobTags.tags.isEmpty)
            #expect(sameElements(list.elements, [x]))
            #expect(tags(list).map(\.tag) == [tag(3)])
            #expect(list.taggedCount == 1)
        }
    }

    @Test func droppingAListWithTaggedElementsReportsTheirTags() {
        withDroppedTags {
            do {
                let list = ListValue()
                for i in 0..<5 { push(list, payload([3, 200, 20_000, 0, 17][i], UInt8(i)), front: false, tag: i == 1 ? 0 : tag(i)) }
                #expect(list.taggedCount == 4)
            }
            #expect(DroppedJobTags.tags == [tag(0), tag(2), tag(3), tag(4)])
            DroppedJobTags.tags.removeAll()
            do {
                let plain = ListValue()
                plain.pushBack(payload(5, 1))
                #expect(plain.count == 1)
            }
            #expect(DroppedJobTags.tags.isEmpty)
        }
    }

    // MARK: Priority levels

    @Test func levelPushesKeepTheLeastUrgentLevelAtTheHead() {
        withDroppedTags {
            let list = ListValue()
            // (payload, level, atLevelHead)
            let pushes: [(String, Int, Bool)] = [("a5", 5, true), ("b5", 5, true), ("c2", 2, true), ("d9", 9, true),
                                                 ("e2", 2, true), ("f5", 5, false), ("g0", 0, true), ("h10", 10, false)]
            for (i, p) in pushes.enumerated() { list.push(Array(p.0.utf8), level: p.1, atLevelHead: p.2, tag: tag(i)) }
            let shown = jobs(list).map { (String(decoding: $0.data, as: UTF8.self), $0.level) }
            #expect(shown.map(\.0) == ["h10", "d9", "b5", "a5", "f5", "e2", "c2", "g0"])
            #expect(shown.map(\.1) == [10, 9, 5, 5, 5, 2, 2, 0])
            #expect(list.count(at: 5) == 3)
            #expect(list.count(at: 2) == 2)
            #expect(list.count(at: 7) == 0)
            #expect(list.mostUrgentLevel == 0)
            #expect(list.taggedCount == 8)

            // popOldest takes the tail end of its level, with its tag, and reports nothing.
            let taken = list.popOldest(at: 5) { (String(decoding: $0, as: UTF8.self), $1) }
            #expect(taken?.0 == "f5")
            #expect(taken?.1 == tag(5))
            #expect(list.popOldest(at: 5) { d, _ in String(decoding: d, as: UTF8.self) } == "a5")
            #expect(list.popOldest(at: 7) { _, _ in 1 } == nil)
            #expect(list.popOldest(at: 0) { d, _ in String(decoding: d, as: UTF8.self) } == "g0")
            #expect(list.mostUrgentLevel == 2)
            #expect(list.count(at: 5) == 1)
            #expect(list.taggedCount == 5)
            #expect(DroppedJobTags.tags.isEmpty)
        }
    }

    @Test func aPlainListIsAllAtTheDefaultLevel() {
        let list = ListValue()
        #expect(list.mostUrgentLevel == nil)
        list.push(Array("a".utf8), level: PriorityLevels.defaultLevel, atLevelHead: true)
        list.pushBack(Array("b".utf8))
        #expect(list.levels == nil)
        #expect(list.count(at: PriorityLevels.defaultLevel) == 2)
        #expect(list.count(at: 0) == 0)
        #expect(list.mostUrgentLevel == PriorityLevels.defaultLevel)
        #expect(list.popOldest(at: PriorityLevels.defaultLevel) { d, t in (String(decoding: d, as: UTF8.self), t) }.map { $0.0 } == "b")
        #expect(list.popOldest(at: 3) { _, _ in 0 } == nil)
    }

    @Test func positionalPushesOnALeveledListKeepTheLevelCountsSummingToTheCount() {
        withDroppedTags {
            let list = ListValue()
            list.push(Array("x8".utf8), level: 8, atLevelHead: true)
            list.push(Array("x3".utf8), level: 3, atLevelHead: true)
            list.push(Array("y3".utf8), level: 3, atLevelHead: true)
            func sumOK() -> Bool { list.levels.map { $0.counts.reduce(0, +) } == list.count }
            list.pushFront(Array("front".utf8))  // joins the head's level (8)
            #expect(list.count(at: 8) == 2)
            list.pushBack(Array("back".utf8))  // joins the tail's level (3)
            #expect(list.count(at: 3) == 3)
            Array("mid".utf8).withUnsafeBytes { list.insert($0, at: 2) }  // before y3: level 3
            #expect(list.count(at: 3) == 4)
            Array("head".utf8).withUnsafeBytes { list.insert($0, at: 0) }
            Array("tail".utf8).withUnsafeBytes { list.insert($0, at: list.count) }
            #expect(sumOK())
            #expect(list.count == 8)
            let shown = jobs(list).map { (String(decoding: $0.data, as: UTF8.self), $0.level) }
            #expect(shown.map(\.0) == ["head", "front", "x8", "mid", "y3", "x3", "back", "tail"])
            #expect(shown.map(\.1) == [8, 8, 8, 3, 3, 3, 3, 3])
            _ = list.popFront()
            _ = list.popBack()
            #expect(sumOK())
            #expect(list.count(at: 8) == 2)
            #expect(list.count(at: 3) == 4)
            #expect(DroppedJobTags.tags.isEmpty)
        }
    }

    // MARK: Randomized model

    private struct Job: Equatable { var data: [UInt8]; var level: Int; var tag: UInt64 }

    @Test(arguments: [11, 12, 13] as [UInt64])
    func randomLevelPushesPopsAndRemovalsMatchAnArrayModel(seed: UInt64) {
        withDroppedTags {
            var rng = SeededRandom(state: seed)
            let list = ListValue()
            var model: [Job] = []
            var nextTag = 1
            let pool = [payload(3, 1), payload(3, 2), payload(200, 3)]
            func newData() -> [UInt8] {
                let roll = Int.random(in: 0..<100, using: &rng)
                if roll < 30 { return pool[Int.random(in: 0..<pool.count, using: &rng)] }
                if roll < 38 { return payload(200, UInt8.random(in: 0...255, using: &rng)) }
                if roll < 40 { return payload(20_000, UInt8.random(in: 0...255, using: &rng)) }
                return payload(Int.random(in: 0...130, using: &rng), UInt8.random(in: 0...255, using: &rng))
            }
            func newTag() -> UInt64 {
                guard Bool.random(using: &rng) else { return 0 }
                defer { nextTag += 1 }
                return tag(nextTag)
            }
            for step in 0..<3000 {
                DroppedJobTags.tags.removeAll()
                var expectedDropped: [UInt64] = []
                let growing = model.count < 120
                let op = Int.random(in: 0..<(growing ? 100 : 60), using: &rng)
                let name: String
                switch op {
                case 60..<100, 0..<15:  // level push at the head or the tail of its level
                    let level = Int.random(in: 0...10, using: &rng)
                    let atHead = Bool.random(using: &rng)
                    let job = Job(data: newData(), level: level, tag: newTag())
                    list.push(job.data, level: level, atLevelHead: atHead, tag: job.tag)
                    let index = atHead ? model.filter { $0.level > level }.count : model.filter { $0.level >= level }.count
                    model.insert(job, at: index)
                    name = "push level \(level) head \(atHead)"
                case 15..<28:
                    let level = Int.random(in: 0...10, using: &rng)
                    let got = list.popOldest(at: level) { Job(data: Array($0), level: level, tag: $1) }
                    let index = model.lastIndex { $0.level == level }
                    #expect(got == index.map { model[$0] }, "popOldest(at: \(level)) at step \(step)")
                    if let index { model.remove(at: index) }
                    name = "popOldest \(level)"
                case 28..<36:
                    let got = list.popBack()
                    let expected = model.popLast()
                    #expect(got == expected?.data, "popBack at step \(step)")
                    if let t = expected?.tag, t != 0 { expectedDropped = [t] }
                    name = "popBack"
                case 36..<44:
                    let got = list.popFront()
                    let expected = model.isEmpty ? nil : model.removeFirst()
                    #expect(got == expected?.data, "popFront at step \(step)")
                    if let t = expected?.tag, t != 0 { expectedDropped = [t] }
                    name = "popFront"
                case 44..<52:
                    let tagged = model.filter { $0.tag != 0 }
                    let wanted = tagged.isEmpty || Int.random(in: 0..<10, using: &rng) == 0
                        ? tag(1_000_000) : tagged[Int.random(in: 0..<tagged.count, using: &rng)].tag
                    let index = model.firstIndex { $0.tag == wanted }
                    #expect(list.remove(tag: wanted) == (index != nil), "remove(tag:) at step \(step)")
                    if let index { model.remove(at: index) }
                    name = "remove tag"
                default:  // 52..<60: LREM
                    let bytes = pool[Int.random(in: 0..<pool.count, using: &rng)]
                    let limit = Int.random(in: 0...3, using: &rng)
                    let fromBack = Bool.random(using: &rng)
                    var matches = model.indices.filter { model[$0].data == bytes }
                    if fromBack { matches.reverse() }
                    if limit > 0 { matches = Array(matches.prefix(limit)) }
                    expectedDropped = matches.map { model[$0].tag }.filter { $0 != 0 }
                    for i in matches.sorted(by: >) { model.remove(at: i) }
                    let removed = bytes.withUnsafeBytes { list.removeAll(equalTo: $0, limit: limit, fromBack: fromBack) }
                    #expect(removed == matches.count, "LREM at step \(step)")
                    name = "LREM"
                }
                #expect(DroppedJobTags.tags.sorted() == expectedDropped.sorted(), "reported tags after \(name) at step \(step)")
                guard check(list, model, "\(name) at step \(step)") else { return }
            }
        }
    }

    /// The list matches the model: order, bytes, tags, levels and counts.
    private func check(_ list: ListValue, _ model: [Job], _ context: String) -> Bool {
        var ok = list.count == model.count && list.taggedCount == model.filter { $0.tag != 0 }.count
        if ok {
            var i = 0
            list.forEachJob { data, tag, level in
                if i >= model.count || !sameBytes(data, model[i].data) || tag != model[i].tag || level != model[i].level { ok = false }
                i += 1
            }
            ok = ok && i == model.count
        }
        for level in PriorityLevels.range where list.count(at: level) != model.filter({ $0.level == level }).count { ok = false }
        if list.mostUrgentLevel != model.map(\.level).min() { ok = false }
        if let levels = list.levels, levels.counts.reduce(0, +) != list.count { ok = false }
        let taggedIndices = model.indices.filter { model[$0].tag != 0 }
        let shown = tags(list)
        if shown.map(\.index) != taggedIndices || shown.map(\.tag) != taggedIndices.map({ model[$0].tag }) { ok = false }
        if !ok { Issue.record("list differs from the model after \(context)") }
        return ok
    }
}
