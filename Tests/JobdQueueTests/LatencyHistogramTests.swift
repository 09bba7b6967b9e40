import Testing
@testable import JobdQueue

@Suite struct LatencyHistogramTests {
    @Test(arguments: [
        (0, 0), (1_000_000, 0), (1_000_001, 1), (4_000_000, 1), (4_000_001, 2), (16_000_000, 2),
        (64_000_000, 3), (256_000_000, 4), (1_024_000_000, 5), (262_144_000_000, 9), (262_144_000_001, 10), (Int64.max / 2, 10),
    ])
    func bucketBoundsAreInclusive(nanos: Int64, bucket: Int) {
        #expect(LatencyHistogram.bucket(nanos: nanos) == bucket)
    }

    /// Every value lands in the first bucket whose bound is not below it (brute force).
    @Test func bucketsAgreeWithTheBounds() {
        var generator = SplitMix(state: 7)
        for _ in 0..<20_000 {
            let nanos = Int64(generator.next() % 400_000_000_000)
            let expected = LatencyHistogram.upperBoundsSeconds.firstIndex { Double(nanos) / 1e9 <= $0 } ?? 10
            #expect(LatencyHistogram.bucket(nanos: nanos) == expected, "\(nanos)")
        }
    }

    @Test func cumulativeCountsAndSum() {
        var histogram = LatencyHistogram()
        histogram.record(millis: 2)
        histogram.record(millis: 2)
        histogram.record(millis: 100)
        histogram.record(nanos: -5)  // clock steps never make a negative duration
        #expect(histogram.total == 4)
        #expect(histogram.sumNanos == 104_000_000)
        #expect(histogram.cumulativeCounts == [1, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4])
    }
}
