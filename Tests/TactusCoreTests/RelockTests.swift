@testable import TactusCore
import Testing

@Suite struct RelockTests {
    @Test func cusumFiresOnASustainedAdvantageOnly() {
        var d = RelockDetector(threshold: 4)
        // A steady small disadvantage keeps the sum at zero; isolated gains do not add up.
        var early = 0
        for i in 0..<1000 where d.update(logLikelihoodRatio: i % 50 == 0 ? 1.5 : -0.05, looseTempo: 130,
                                         mainTempo: 100) {
            early += 1
        }
        #expect(early == 0)
        #expect(d.statistic < 1.6)
        // Beat after beat of evidence for the looser tracker crosses the threshold, then restarts.
        var fired = -1
        for i in 0..<200 where fired < 0 {
            if d.update(logLikelihoodRatio: i % 50 == 0 ? 1.5 : 0, looseTempo: 130, mainTempo: 100) { fired = i }
        }
        #expect(fired == 100, "at the third beat of evidence: \(fired)")
        #expect(d.statistic == 0 && d.count == 1)
    }

    /// A hand-over needs the looser tempo to have held for `holdFrames`: evidence gathered while
    /// it wanders waits (the sum is kept) until it holds, and a metrical level never takes over.
    @Test func handOverWaitsForAHeldTempoChange() {
        var d = RelockDetector(threshold: 4, holdFrames: 30)
        var fired = -1
        for i in 0..<200 where fired < 0 {
            // Wandering between 150 and 181 BPM every 20 frames for the first 100 frames, then 130.
            let loose = i < 100 ? (i / 20 % 2 == 0 ? 150.0 : 181.0) : 130.0
            if d.update(logLikelihoodRatio: 0.1, looseTempo: loose, mainTempo: 90) { fired = i }
        }
        #expect(fired == 130, "sum above 4 at frame 40, tempo held for 30 frames at frame 130: \(fired)")
        #expect(d.count == 1 && d.statistic == 0)
        var octave = RelockDetector(threshold: 4, holdFrames: 30)
        let twice = (0..<500).contains { _ in octave.update(logLikelihoodRatio: 0.1, looseTempo: 180, mainTempo: 90) }
        #expect(!twice && octave.statistic > 40, "the faster metrical level is no tempo change")
    }

    @Test func metricalLevelsAndSmallDriftsAreNoTempoChange() {
        #expect(RelockDetector.isTempoChange(130, from: 100))
        #expect(RelockDetector.isTempoChange(90, from: 130))
        #expect(!RelockDetector.isTempoChange(110, from: 100), "10 %: the main tracker follows")
        #expect(!RelockDetector.isTempoChange(200, from: 100) && !RelockDetector.isTempoChange(52, from: 100))
    }

    @Test func adoptionCopiesTheDistributionAndLogEvidenceScoresPredictions() {
        var config = TrackerConfig()
        config.dropEarlyBeats = false
        let a = ForwardBeatTracker(config: config, frameRate: 100)
        let b = ForwardBeatTracker(config: config, frameRate: 100)
        // a hears a 120 BPM pulse, b nothing informative until just before the peak at frame
        // 1000: a expects that peak, b does not.
        for f in 0...1000 {
            let act: Float = f % 50 == 0 ? 0.9 : 0.02
            _ = a.process(activation: act)
            _ = b.process(activation: act, informative: f >= 995)
        }
        #expect(b.logEvidence != 0 && a.logEvidence > b.logEvidence)
        _ = b.process(activation: 0.9, informative: false)
        #expect(b.logEvidence == 0, "a frame without evidence scores 0")
        b.adopt(a)
        #expect(Array(b.distribution) == Array(a.distribution))
    }

    /// The whole pipeline on a groove that steps from 100 to 130 BPM (onset fallback): with the
    /// re-lock test on, four correct beats in a row come much sooner after the step.
    @Test func relockFindsATempoStepSooner() throws {
        let signal = ExampleSignal(startTempo: 100, endTempo: 130, changeStart: 15, changeEnd: 15, duration: 30)
        func relock(threshold: Double) throws -> Double {
            var config = TactusConfig()
            config.tracker.relockThreshold = threshold
            let p = try BeatPipeline(config: config, model: nil)
            #expect((p.explorer != nil) == (threshold > 0))
            var beats: [Double] = []
            signal.samples.withUnsafeBufferPointer {
                p.process($0) { if let e = $0.event { beats.append(e.beatTime) } }
            }
            let correct = beats.map { b in signal.beats.contains { abs($0 - b) <= 0.07 } }
            for k in beats.indices where beats[k] >= 15 && k + 4 <= beats.count
                && correct[k..<(k + 4)].allSatisfy({ $0 }) {
                return beats[k] - 15
            }
            return .infinity
        }
        let off = try relock(threshold: 0), on = try relock(threshold: 4)
        #expect(on < 3 && off > on + 1.5, "re-lock \(on) s with the test, \(off) s without")
    }
}
