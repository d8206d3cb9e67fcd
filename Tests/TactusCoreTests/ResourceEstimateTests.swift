import Testing
@testable import TactusCore

/// Issue 18, item 4: sizes derived from settings are computed before anything is allocated, and
/// configurations beyond the limits are rejected by name.
@Suite struct ResourceEstimateTests {
    /// The estimate counts the states the tracker really builds.
    @Test(arguments: [(55.0, 215.0, 0), (10, 1_000, 0), (40, 250, 60), (30, 300, 0)])
    func matchesTheBuiltStateSpace(minBPM: Double, maxBPM: Double, tempoCount: Int) {
        var config = TactusConfig()
        config.tracker.minBPM = minBPM
        config.tracker.maxBPM = maxBPM
        config.tracker.tempoCount = tempoCount
        let estimate = ResourceEstimate(config)
        let space = BeatStateSpace(minInterval: 60 * 100 / maxBPM, maxInterval: 60 * 100 / minBPM,
                                   intervalCount: tempoCount > 0 ? tempoCount : nil)
        #expect(estimate.tempoCount == space.intervals.count)
        let error = abs(Double(estimate.stateCount - space.stateCount)) / Double(space.stateCount)
        #expect(error < 0.05, "\(estimate.stateCount) vs \(space.stateCount)")
    }

    @Test func theDefaultIsSmall() throws {
        let estimate = ResourceEstimate(TactusConfig())
        #expect(estimate.stateCount == 5_617)
        #expect(estimate.memoryBytes < 4 * 1024 * 1024)
        try estimate.check()
        try TactusConfig().validate()
    }

    /// The case: hop 1 with 10 BPM would need ~279 GB; rejected by name, allocating nothing.
    @Test func hopOneAtTenBPMIsRejected() {
        var config = TactusConfig()
        config.features.hopSize = 1
        config.tracker.minBPM = 10
        let error = #expect(throws: ConfigError.self) { try config.validate() }
        #expect(error?.description.contains("features.hop_size") == true)
        #expect(ResourceEstimate(config).memoryBytes > 100e9)
    }

    @Test func aHugeStateSpaceAtAModestFrameRateIsRejected() {
        var config = TactusConfig()
        config.features.hopSize = 100  // 441 frames/s: within the frame-rate limit
        config.tracker.minBPM = 10
        config.tracker.maxBPM = 1_000
        let error = #expect(throws: ConfigError.self) { try config.validate() }
        #expect(error?.description.contains("tracker.min_bpm") == true)
        #expect(error?.description.contains("tracker.tempo_count") == true)
    }

    /// The widest tempo range at the default hop is within the limits, and builds.
    @Test func theWidestRangeAtTheDefaultHopRuns() throws {
        var config = TactusConfig()
        config.tracker.minBPM = 10
        config.tracker.maxBPM = 1_000
        try config.validate()
        let pipeline = try BeatPipeline(config: config, model: nil)
        #expect(pipeline.tracker.stateSpace.stateCount > 100_000)
    }

    @Test func theRelockTrackerCountsTwice() {
        var config = TactusConfig()
        let one = ResourceEstimate(config)
        config.tracker.relockThreshold = 6
        let two = ResourceEstimate(config)
        #expect(two.trackers == 2)
        #expect(two.stateUpdatesPerSecond == 2 * one.stateUpdatesPerSecond)
    }
}
