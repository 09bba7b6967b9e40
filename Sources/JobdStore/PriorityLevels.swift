/// How many elements of a queue's list sit at each priority level.
///
/// Levels lie along the list from the least urgent at the head (level 10)
/// to the most urgent at the tail (level 0), so a tail pop takes the most
/// urgent, oldest job; within a level elements are FIFO like any list.
/// A list without levels has every element at the default level.
public struct PriorityLevels: Equatable, Sendable {
    public static let range = 0...10
    public static let defaultLevel = 5

    public private(set) var counts: [Int]

    /// Levels for a list of `count` elements, all at `level`.
    public init(all count: Int, at level: Int) {
        counts = Array(repeating: 0, count: PriorityLevels.range.count)
        counts[level] = count
    }

    /// The most urgent level holding an element (lowest number).
    public var mostUrgent: Int? { counts.firstIndex { $0 > 0 } }
    /// The least urgent level holding an element (highest number).
    public var leastUrgent: Int? { counts.lastIndex { $0 > 0 } }

    /// Index (from the head) of the first element at `level`.
    public func start(of level: Int) -> Int {
        var index = 0
        for l in stride(from: PriorityLevels.range.upperBound, to: level, by: -1) { index += counts[l] }
        return index
    }

    /// The level of the element at `index` from the head.
    public func level(at index: Int) -> Int {
        var remaining = index
        for l in stride(from: PriorityLevels.range.upperBound, through: 0, by: -1) {
            if remaining < counts[l] { return l }
            remaining -= counts[l]
        }
        return 0
    }

    public var isUniform: Bool { counts.filter { $0 > 0 }.count <= 1 }

    mutating func add(_ level: Int) { counts[level] += 1 }
    mutating func remove(_ level: Int) { counts[level] -= 1 }
}

/// Tags of job elements that left a list without the job engine taking
/// them (RPOP, LREM, DEL, FLUSHALL...): the engine drops their records.
/// Engine thread only.
public enum DroppedJobTags {
    nonisolated(unsafe) public static var tags: [UInt64] = []
}
