/// What a pool's workers have done, for WORKER.LIST, QUEUE.STATS and INFO:
/// outcome counts and handler times (mean, and p99 from a histogram of
/// power-of-two buckets split in four, so within 19% of the true value).
public struct WorkerPoolStats: Sendable {
    public private(set) var completed = 0
    public private(set) var failed = 0
    public private(set) var timedOut = 0
    public private(set) var canceled = 0
    /// Jobs handed back unstarted (a worker stopping).
    public private(set) var handedBack = 0
    private var totalNanos: Int64 = 0
    private var timed = 0
    private var buckets = [Int](repeating: 0, count: 64 * 4)

    mutating func record(_ slot: WorkerSlot) {
        switch slot.outcome {
        case .succeeded: completed += 1
        case .failed: failed += 1
        case .timedOut: timedOut += 1
        case .canceled: canceled += 1
        case .notRun: handedBack += 1; return
        }
        let nanos = max(1, slot.handlerNanos)
        totalNanos &+= nanos
        timed += 1
        buckets[WorkerPoolStats.bucket(nanos)] += 1
    }

    static func bucket(_ nanos: Int64) -> Int {
        let power = 63 - nanos.leadingZeroBitCount
        let quarter = power >= 2 ? Int((nanos >> (power - 2)) & 3) : 0
        return power * 4 + quarter
    }

    /// The lower bound of a bucket's range, in nanoseconds.
    static func bucketStart(_ bucket: Int) -> Int64 {
        let power = bucket / 4, quarter = Int64(bucket % 4)
        return power >= 2 ? (Int64(1) << power) + quarter * (Int64(1) << (power - 2)) : Int64(1) << power
    }

    public var meanMillis: Double { timed == 0 ? 0 : Double(totalNanos) / Double(timed) / 1e6 }

    /// The handler time 99% of jobs stayed under (the middle of its bucket).
    public var p99Millis: Double { percentileMillis(0.99) }

    public func percentileMillis(_ fraction: Double) -> Double {
        guard timed > 0 else { return 0 }
        let wanted = Int((Double(timed) * fraction).rounded(.up))
        var seen = 0
        for (index, count) in buckets.enumerated() where count > 0 {
            seen += count
            if seen >= wanted {
                let low = WorkerPoolStats.bucketStart(index), high = WorkerPoolStats.bucketStart(index + 1)
                return Double(low + (high - low) / 2) / 1e6
            }
        }
        return 0
    }
}
