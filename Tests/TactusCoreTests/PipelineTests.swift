import CAllocCounter
import TactusCore
import Testing

@Suite struct PipelineTests {
    /// The real-time rule: once running, a hop allocates nothing (network, network mixed with the
    /// onset function, and the fallback alike, with and without the re-lock test's second tracker).
    @Test(arguments: ["network", "network + onset", "onset fallback"], [0.0, 0.5])
    func noAllocationPerHopInSteadyState(activation: String, relockThreshold: Double) throws {
        var model = activation == "onset fallback" ? nil : TestModels.model(networks: 8)
        if activation == "network + onset" { model?.metadata[ModelSpec.onsetMixKey] = "0.7" }
        var config = TactusConfig()
        config.emission.gateActivation = 0  // a random network's activations must not close the gate
        config.tracker.relockThreshold = relockThreshold
        let pipeline = try BeatPipeline(config: config, model: model)
        // A tempo step, so that the re-lock test's hand-over runs too.
        let signal = ExampleSignal(startTempo: 100, endTempo: 130, changeStart: 3, changeEnd: 3, duration: 8)
        var beats = 0
        var allocations = 0
        signal.samples.withUnsafeBufferPointer { all in
            var offset = 0, hop = 0
            while offset < all.count {
                let n = min(441, all.count - offset)
                let block = UnsafeBufferPointer(rebasing: all[offset..<(offset + n)])
                if hop >= 100 { tactus_alloc_counting_begin() }
                pipeline.process(block) { if $0.tracker.isBeat { beats += 1 } }
                if hop >= 100 { allocations += tactus_alloc_counting_end() }
                offset += n; hop += 1
            }
        }
        if tactus_alloc_counter_available() != 0 { #expect(allocations == 0) }
        #expect(beats > 0)
        // With the re-lock test on, the hand-over (the main tracker adopting the second's
        // distribution) must be among what ran: the step makes every activation hand over.
        if relockThreshold > 0 { #expect(pipeline.relock.count > 0) }
    }

    @Test(.enabled(if: tactus_alloc_counter_available() != 0, "sanitizer build: the sanitizer owns malloc"))
    func allocationCounterCountsThisThread() {
        tactus_alloc_counting_begin()
        let a = [Int](repeating: 1, count: 1000)
        let n = tactus_alloc_counting_end()
        #expect(n >= 1 && a.count == 1000)
    }

    @Test func deterministicAndIndependentOfBlockSize() throws {
        let signal = ExampleSignal(duration: 8)
        func run(block: Int) throws -> [FrameResult] {
            let p = try BeatPipeline(config: TactusConfig(), model: TestModels.model(networks: 2))
            var out: [FrameResult] = []
            signal.samples.withUnsafeBufferPointer { all in
                var offset = 0
                while offset < all.count {
                    let n = min(block, all.count - offset)
                    p.process(UnsafeBufferPointer(rebasing: all[offset..<(offset + n)])) { out.append($0) }
                    offset += n
                }
            }
            return out
        }
        let a = try run(block: 441)
        #expect(a.count == (signal.samples.count + 440) / 441)
        #expect(try run(block: 441) == a)
        #expect(try run(block: 4096) == a)
        #expect(try run(block: 1) == a)
    }

    @Test func fallbackTracksTheExample() throws {
        let signal = ExampleSignal()
        let p = try BeatPipeline(config: TactusConfig(), model: nil)
        var beats: [Double] = []
        signal.samples.withUnsafeBufferPointer { p.process($0) { if $0.tracker.isBeat { beats.append($0.time) } } }
        #expect(BeatEvaluation.fMeasure(detections: beats, annotations: signal.beats) > 0.95)
    }

    @Test func rejectsAModelForOtherFeatures() {
        #expect(throws: PipelineError.self) {
            try BeatPipeline(config: TactusConfig(), model: TestModels.model(networks: 1, inputs: 10))
        }
    }
}
