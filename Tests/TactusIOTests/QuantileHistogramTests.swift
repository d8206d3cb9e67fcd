import CAllocCounter
import TactusIO
import Testing

@Suite struct QuantileHistogramTests {
    @Test func quantilesWithinTheResolution() {
        let h = QuantileHistogram(lowest: 0.1, highest: 1e7, resolution: 0.01)
        // 1 ... 100,000 µs, each once: the true p-quantile is about p · 100,000.
        for v in 1...100_000 { h.record(Double(v)) }
        for p in [0.01, 0.5, 0.9, 0.99] {
            let truth = Double(Int(Double(100_000 - 1) * p) + 1)
            #expect(abs(h.quantile(p) / truth - 1) <= 0.01, "p \(p): \(h.quantile(p)) vs \(truth)")
        }
        #expect(h.count == 100_000 && h.maximum == 100_000 && h.quantile(1) == 100_000)
    }

    @Test func outOfRangeValuesLandInTheEndBins() {
        let h = QuantileHistogram(lowest: 1, highest: 100)
        for v in [0.0, -5, .nan, 1e9, .infinity] { h.record(v) }
        #expect(h.count == 5)
        #expect(h.quantile(0) == 1, "at or below the lowest: reported as the lowest")
        #expect(h.quantile(1) >= 100)
        #expect(QuantileHistogram(lowest: 1, highest: 2).quantile(0.5) == 0, "nothing recorded")
    }

    @Test func recordingDoesNotAllocate() {
        let h = QuantileHistogram(lowest: 0.001, highest: 1e5)
        h.record(1)
        tactus_alloc_counting_begin()
        for i in 0..<10_000 { h.record(Double(i) * 0.37) }
        let allocations = tactus_alloc_counting_end()
        if tactus_alloc_counter_available() != 0 { #expect(allocations == 0) }
        #expect(h.count == 10_001)
    }
}
