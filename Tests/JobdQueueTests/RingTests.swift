import Testing
import JobdQueue

// Single-thread semantics of SPSCRing and MPMCRing, checked against a plain
// array as the model. (Concurrency: RingStressTests.)

@Suite struct RingTests {
    // MARK: SPSCRing

    @Test(arguments: [(1, 1), (2, 2), (3, 4), (5, 8), (64, 64), (65, 128), (1000, 1024)])
    func spscCapacityRoundsUpToPowerOfTwo(requested: Int, expected: Int) {
        let ring = SPSCRing(capacity: requested)
        #expect(ring.capacity == expected)
        var pushed = 0
        while ring.push(UInt32(pushed)) { pushed += 1 }
        #expect(pushed == expected)
    }

    @Test func spscEmptyPopReturnsNil() {
        let ring = SPSCRing(capacity: 4)
        #expect(ring.pop() == nil)
        #expect(ring.isEmpty)
        #expect(ring.push(7))
        #expect(ring.pop() == 7)
        #expect(ring.pop() == nil)
        var buffer = [UInt32](repeating: 0, count: 4)
        #expect(buffer.withUnsafeMutableBufferPointer { ring.popBatch(into: $0.baseAddress!, max: 4) } == 0)
    }

    @Test func spscFullPushReturnsFalse() {
        let ring = SPSCRing(capacity: 8)
        for i in 0..<8 {
            #expect(ring.freeSpace == 8 - i)
            #expect(ring.push(UInt32(i)))
            #expect(ring.count == i + 1)
        }
        #expect(!ring.push(99))
        #expect(ring.freeSpace == 0)
        #expect(ring.count == 8)
        #expect(ring.pop() == 0)
        #expect(ring.freeSpace == 1)
        #expect(ring.push(8))
        #expect(!ring.push(100))
        #expect((0..<8).map { _ in ring.pop() } == (1...8).map { UInt32($0) })
        #expect(ring.isEmpty && ring.freeSpace == 8)
    }

    @Test func spscWrapsAroundOverManyLaps() {
        let ring = SPSCRing(capacity: 8)
        var next: UInt32 = 0, expected: UInt32 = 0
        // 5 in, 2 out: the ring fills up (some pushes refused), and every 4th
        // round it is drained; over 1000 laps of the 8 slots.
        for round in 0..<4000 {
            for _ in 0..<5 {
                if ring.push(next) { next &+= 1 }
            }
            for _ in 0..<(round % 4 == 3 ? 8 : 2) {
                guard let value = ring.pop() else { break }
                #expect(value == expected)
                expected &+= 1
            }
        }
        while let value = ring.pop() {
            #expect(value == expected)
            expected &+= 1
        }
        #expect(expected == next && next > 1000 * 8)
    }

    @Test func spscBatchesFitPartially() {
        let ring = SPSCRing(capacity: 8)
        let source: [UInt32] = (100..<120).map { $0 }
        var out = [UInt32](repeating: 0, count: 32)
        source.withUnsafeBufferPointer { src in
            #expect(ring.pushBatch(from: src.baseAddress!, count: 5) == 5)
            #expect(ring.pushBatch(from: src.baseAddress! + 5, count: 6) == 3)  // only 3 fit
            #expect(ring.pushBatch(from: src.baseAddress!, count: 1) == 0)
            #expect(ring.freeSpace == 0)
        }
        out.withUnsafeMutableBufferPointer { dst in
            #expect(ring.popBatch(into: dst.baseAddress!, max: 3) == 3)
            #expect(ring.popBatch(into: dst.baseAddress! + 3, max: 100) == 5)  // only 5 there
            #expect(ring.popBatch(into: dst.baseAddress!, max: 0) == 0)
        }
        #expect(Array(out[0..<8]) == Array(source[0..<8]))
        // Now head = tail = 8 (slot 0): a batch of 6 starting at slot 3 wraps.
        #expect(ring.push(1) && ring.push(2) && ring.push(3))
        #expect(ring.pop() == 1 && ring.pop() == 2 && ring.pop() == 3)
        source.withUnsafeBufferPointer { src in
            #expect(ring.pushBatch(from: src.baseAddress!, count: 6) == 6)
        }
        #expect(ring.count == 6)
        out.withUnsafeMutableBufferPointer { dst in
            #expect(ring.popBatch(into: dst.baseAddress!, max: 32) == 6)
        }
        #expect(Array(out[0..<6]) == Array(source[0..<6]))
        #expect(ring.isEmpty)
    }

    @Test(arguments: [1, 2, 8, 16])
    func spscMatchesModelUnderRandomOperations(capacity: Int) {
        let ring = SPSCRing(capacity: capacity)
        var model: [UInt32] = [], next: UInt32 = 0
        var random = SplitMix(state: UInt64(capacity))
        var scratch = [UInt32](repeating: 0, count: 40)
        for _ in 0..<20_000 {
            switch Int.random(in: 0..<4, using: &random) {
            case 0:
                let accepted = ring.push(next)
                #expect(accepted == (model.count < capacity))
                if accepted { model.append(next); next &+= 1 }
            case 1:
                #expect(ring.pop() == (model.isEmpty ? nil : model.removeFirst()))
            case 2:
                let wanted = Int.random(in: 0...20, using: &random)
                let values = (0..<wanted).map { next &+ UInt32($0) }
                let pushed = values.withUnsafeBufferPointer { ring.pushBatch(from: $0.baseAddress!, count: wanted) }
                #expect(pushed == min(wanted, capacity - model.count))
                model += values[0..<pushed]
                next &+= UInt32(pushed)
            default:
                let wanted = Int.random(in: 0...20, using: &random)
                let popped = scratch.withUnsafeMutableBufferPointer { ring.popBatch(into: $0.baseAddress!, max: wanted) }
                #expect(popped == min(wanted, model.count))
                #expect(Array(scratch[0..<popped]) == Array(model[0..<popped]))
                model.removeFirst(popped)
            }
            #expect(ring.count == model.count)
            #expect(ring.isEmpty == model.isEmpty)
            #expect(ring.freeSpace == capacity - model.count)
        }
    }

    // MARK: MPMCRing

    @Test(arguments: [(1, 2), (2, 2), (3, 4), (64, 64), (100, 128)])
    func mpmcCapacityRoundsUpToPowerOfTwo(requested: Int, expected: Int) {
        let ring = MPMCRing(capacity: requested)
        #expect(ring.capacity == expected)
        var pushed = 0
        while ring.push(UInt32(pushed)) { pushed += 1 }
        #expect(pushed == expected)
        #expect(ring.count == expected)
    }

    @Test func mpmcEmptyPopAndFullPush() {
        let ring = MPMCRing(capacity: 4)
        #expect(ring.pop() == nil && ring.isEmpty)
        for i in 0..<4 { #expect(ring.push(UInt32(i))) }
        #expect(!ring.push(4))
        #expect(ring.pop() == 0)
        #expect(ring.push(4))
        #expect(!ring.push(5))
        #expect((0..<4).map { _ in ring.pop() } == [1, 2, 3, 4])
        #expect(ring.pop() == nil && ring.isEmpty)
    }

    @Test(arguments: [2, 4, 16])
    func mpmcMatchesModelOverManyLaps(capacity: Int) {
        let ring = MPMCRing(capacity: capacity)
        var model: [UInt32] = [], next: UInt32 = 0
        var random = SplitMix(state: UInt64(capacity) &* 31)
        for _ in 0..<20_000 {
            if Bool.random(using: &random) {
                let accepted = ring.push(next)
                #expect(accepted == (model.count < capacity))
                if accepted { model.append(next); next &+= 1 }
            } else {
                #expect(ring.pop() == (model.isEmpty ? nil : model.removeFirst()))
            }
            #expect(ring.count == model.count)
        }
        #expect(Int(next) > 100 * capacity)  // many laps
    }
}
