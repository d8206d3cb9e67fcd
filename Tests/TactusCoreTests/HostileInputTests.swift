import TactusCore
import Testing

/// Input a broken or hostile source can give: the pipeline never produces NaN, never crashes,
/// and sends no beats where there is no music (network and onset fallback alike).
@Suite struct HostileInputTests {
    static func run(_ samples: [Float], model: ModelSpec?) throws -> (beats: [BeatEvent], finite: Bool, repaired: Int) {
        let pipeline = try BeatPipeline(config: TactusConfig(), model: model)
        var beats: [BeatEvent] = [], finite = true
        samples.withUnsafeBufferPointer { all in
            var offset = 0
            while offset < all.count {
                let n = min(1024, all.count - offset)
                pipeline.process(UnsafeBufferPointer(rebasing: all[offset..<(offset + n)])) { r in
                    finite = finite && r.activation.isFinite && r.tracker.tempo.isFinite
                        && r.tracker.confidence.isFinite
                        && r.tracker.phaseFrames.isFinite && r.level.isFinite && r.novelty.isFinite
                    if let e = r.event {
                        finite = finite && e.beatTime.isFinite && e.tempo.isFinite && e.confidence.isFinite
                        beats.append(e)
                    }
                }
                offset += n
            }
        }
        return (beats, finite, pipeline.framer.repairedSamples)
    }

    static let seconds = 30

    static var signals: [(name: String, samples: [Float])] {
        let n = seconds * 44_100
        var rng = SplitMix64(seed: 7)
        let white = (0..<n).map { _ in Float(rng.nextSigned()) }
        func square(_ hz: Double) -> [Float] {
            (0..<n).map { i in (Double(i) * hz / 44_100).truncatingRemainder(dividingBy: 1) < 0.5 ? 1 : -1 }
        }
        return [
            ("full-scale white noise", white),
            ("DC at +0.5", [Float](repeating: 0.5, count: n)),
            ("full-scale square wave at 50 Hz", square(50)),
            ("full-scale square wave at 997 Hz", square(997)),
            ("all NaN", [Float](repeating: .nan, count: n)),
            ("all +Inf", [Float](repeating: .infinity, count: n)),
            ("huge values", [Float](repeating: 3e38, count: n)),
        ]
    }

    @Test(arguments: [false, true])
    func noBeatsAndNoNaNOnHostileSignals(withModel: Bool) throws {
        let model = withModel ? TestModels.model(networks: 2) : nil
        for (name, samples) in Self.signals {
            let r = try Self.run(samples, model: model)
            #expect(r.finite, "\(name): non-finite output")
            #expect(r.beats.isEmpty, "\(name): \(r.beats.count) beats")
        }
    }

    /// Music with a broken stretch (NaN, ±Inf, 1e30): the samples are repaired and counted, the
    /// beats away from the stretch are those of the clean music.
    @Test func brokenStretchesInMusicAreRepaired() throws {
        let example = ExampleSignal(tempo: 120, duration: 20)
        var broken = example.samples
        for i in (5 * 44_100)..<(5 * 44_100 + 1000) { broken[i] = .nan }
        for i in (8 * 44_100)..<(8 * 44_100 + 10) { broken[i] = .infinity }
        broken[9 * 44_100] = -.infinity
        for i in (12 * 44_100)..<(12 * 44_100 + 441) { broken[i] = 1e30 }
        let clean = try Self.run(example.samples, model: nil)
        let r = try Self.run(broken, model: nil)
        #expect(r.finite)
        #expect(r.repaired == 1000 + 10 + 1 + 441)
        #expect(clean.repaired == 0)
        let away = { (b: [BeatEvent]) in b.map(\.beatTime).filter { $0 < 4.5 || $0 > 15 } }
        #expect(BeatEvaluation.fMeasure(detections: away(r.beats), annotations: away(clean.beats)) > 0.95)
    }
}
