import CAllocCounter
@testable import TactusCore
import Testing

@Suite struct ControlUnitTests {
    // MARK: Bars

    @Test func barsCountFromTheFirstBeat() {
        var bars = BarCounter()
        let p = (0..<20).map { bars.next(beatTime: Double($0) * 0.5) }
        #expect(p.map(\.beatInBar) == [1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4])
        #expect(p.map(\.bar) == [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5])
        #expect(p.map(\.phraseBar) == [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 1, 1, 1, 1])
        #expect(p.allSatisfy { $0.source == .count })
        #expect(bars.phraseCount == 2, "phrase 2 began at bar 5")
    }

    /// The JSON line carries the bar fields once the beat is counted (docs/events.md).
    @Test func beatLinesCarryBarAndPhrase() {
        var e = BeatEvent(beatTime: 1, emissionTime: 0.95, tempo: 120, confidence: 0.9, count: 9, predicted: true)
        #expect(!e.jsonLine().contains("bar"), "not counted: no bar fields")
        (e.beatInBar, e.meter, e.bar, e.phraseBar, e.phrase, e.barSource) = (1, 4, 3, 3, 1, .operator)
        #expect(e.jsonLine().hasSuffix(#","beat_in_bar":1,"meter":4,"bar":3"#
                                       + #","phrase_bar":3,"phrase":1,"bar_source":"operator"}"# + "\n"))
    }

    @Test func downbeatOnTheNextOrTheNearestBeat() {
        // The next beat: the last one lies more than a quarter beat before the command.
        var a = BarCounter()
        for i in 0..<6 { _ = a.next(beatTime: Double(i) * 0.5) }  // beat 2 of bar 2 at 2.5 s
        a.downbeat(at: 2.7, period: 0.5)
        #expect(a.next(beatTime: 3.0) == BarPosition(beatInBar: 1, bar: 3, phraseBar: 1, source: .operator))
        #expect(a.next(beatTime: 3.5) == BarPosition(beatInBar: 2, bar: 3, phraseBar: 1, source: .operator))
        // The nearest, within a quarter beat before the command: that beat was beat 1.
        var b = BarCounter()
        for i in 0..<6 { _ = b.next(beatTime: Double(i) * 0.5) }
        b.downbeat(at: 2.6, period: 0.5)
        #expect(b.next(beatTime: 3.0) == BarPosition(beatInBar: 2, bar: 3, phraseBar: 1, source: .operator))
        // A beat sent ahead of the command is the next one: it was beat 1.
        var c = BarCounter()
        for i in 0..<3 { _ = c.next(beatTime: Double(i) * 0.5) }  // beat 3 at 1.0 s, sent at 0.95 s
        c.downbeat(at: 0.97, period: 0.5)
        #expect(c.next(beatTime: 1.5).beatInBar == 2)
        #expect(c.last?.bar == 2)
        // Already beat 1: the bar number stays.
        var d = BarCounter()
        _ = d.next(beatTime: 0)
        d.downbeat(at: 0.05, period: 0.5)
        #expect(d.next(beatTime: 0.5) == BarPosition(beatInBar: 2, bar: 1, phraseBar: 1, source: .operator))
        // Before any beat: the first beat is beat 1, from the operator.
        var e = BarCounter()
        e.downbeat(at: 0, period: 0.5)
        #expect(e.next(beatTime: 0.3) == BarPosition(beatInBar: 1, bar: 1, phraseBar: 1, source: .operator))
    }

    @Test func meterAndPhraseTakeEffectAtTheNextBeat() {
        var bars = BarCounter()
        for i in 0..<3 { _ = bars.next(beatTime: Double(i)) }  // beat 3
        #expect(bars.setMeter(3) && bars.setPhrase(2))
        #expect(!bars.setMeter(0) && !bars.setMeter(BarCounter.maxMeter + 1) && !bars.setPhrase(0))
        let p = (3..<12).map { bars.next(beatTime: Double($0)) }
        #expect(p.map(\.beatInBar) == [1, 2, 3, 1, 2, 3, 1, 2, 3])
        #expect(p.map(\.bar) == [2, 2, 2, 3, 3, 3, 4, 4, 4])
        #expect(p.map(\.phraseBar) == [2, 2, 2, 1, 1, 1, 2, 2, 2])
        // A meter shorter than the current beat: a new bar at the next beat.
        var q = BarCounter()
        for i in 0..<4 { _ = q.next(beatTime: Double(i)) }
        _ = q.setMeter(2)
        #expect(q.next(beatTime: 4).beatInBar == 1)
    }

    @Test func changingLevelKeepsBarLines() {
        // Halving after beat 1 (kept): 1; after beat 2 (dropped, beat 3 next): 1, so 3 is 2.
        for (b, next) in [(1, 2), (2, 2), (3, 3), (4, 3)] {
            var bars = BarCounter()
            for i in 0..<b { _ = bars.next(beatTime: Double(i)) }
            bars.changeLevel(halving: true)
            #expect(bars.next(beatTime: 10).beatInBar == next, "after beat \(b)")
        }
        // Doubling after beat 3 of 4: beat 3 becomes 5 → 1 of a half-length bar, the "and" 2.
        var bars = BarCounter()
        for i in 0..<3 { _ = bars.next(beatTime: Double(i)) }
        bars.changeLevel(halving: false)
        #expect(bars.next(beatTime: 10).beatInBar == 2)
        var one = BarCounter()
        _ = one.next(beatTime: 0)
        one.changeLevel(halving: false)
        #expect([one.next(beatTime: 1), one.next(beatTime: 2), one.next(beatTime: 3)].map(\.beatInBar) == [2, 3, 4])
    }

    // MARK: Taps

    @Test func tapsNeedThreeAndStartOverAfterAPause() {
        let taps = TapTempo()
        #expect(taps.add(1.0) == 1 && taps.fit() == nil)
        #expect(taps.add(1.5) == 2 && taps.fit() == nil)
        #expect(taps.add(2.0) == 3)
        let fit = taps.fit()!
        #expect(abs(fit.period - 0.5) < 1e-12 && abs(fit.beat - 2.0) < 1e-12)
        #expect(taps.add(4.1) == 1, "more than 2 s after the last: a new series")
        #expect(taps.add(4.0) == 1, "not after the last: a new series")
        for i in 1...20 { taps.add(4.0 + Double(i) * 0.4) }
        #expect(taps.count == TapTempo.capacity)
        #expect(abs(taps.fit()!.period - 0.4) < 1e-9 && abs(taps.fit()!.beat - 12.0) < 1e-9)
    }

    @Test func aMissedTapCountsTwoBeats() {
        let taps = TapTempo()
        for t in [0.0, 0.5, 1.0, 2.0, 2.5] { taps.add(t) }  // the tap at 1.5 s missing
        let fit = taps.fit()!
        #expect(abs(fit.period - 0.5) < 1e-9 && abs(fit.beat - 2.5) < 1e-9)
    }

    /// ±15 ms of jitter on four taps at 120 BPM: the fit's tempo error over 1000 series.
    @Test func jitteredTapsAt120() {
        var rng = SplitMix64(seed: 9)
        var errors: [Double] = [], phase: [Double] = []
        for _ in 0..<1000 {
            let taps = TapTempo()
            for i in 0..<4 { taps.add(10 + Double(i) * 0.5 + 0.015 * rng.nextSigned()) }
            let fit = taps.fit()!
            errors.append(abs(60 / fit.period - 120))
            phase.append(abs(fit.beat - 11.5))
        }
        errors.sort(); phase.sort()
        #expect(errors[500] < 1.2 && errors[950] < 3.5, "median \(errors[500]), p95 \(errors[950]) BPM")
        #expect(phase[950] < 0.015, "p95 \(phase[950]) s")
    }

    // MARK: Tracker

    /// Impulses every 50 frames (120 BPM at 100 fps) with the tempo restricted to 55-100 BPM: the
    /// tracker takes every other impulse (60 BPM) and never enters a tempo outside.
    @Test func restrictedTrackerStaysInside() {
        let tracker = ForwardBeatTracker(config: TrackerConfig(), frameRate: 100)
        #expect(!tracker.restrictTempo(minBPM: 300, maxBPM: 400), "no tempo state there")
        #expect(!tracker.isRestricted)
        #expect(tracker.restrictTempo(minBPM: 55, maxBPM: 100))
        #expect(tracker.isRestricted && tracker.allowedTempo == 55...100)
        var beats: [TrackerStep] = []
        for f in 0..<3000 {
            let step = tracker.process(activation: f % 50 == 7 ? 0.9 : 0.02)
            #expect(step.tempo <= 100 + 1e-9)
            if step.isBeat { beats.append(step) }
        }
        let late = beats.filter { $0.frame > 1000 }
        #expect(late.count >= 18 && late.allSatisfy { $0.frame % 50 == 7 && abs($0.tempo - 60) < 1 })
        #expect(abs(tracker.distribution.reduce(0, +) - 1) < 1e-9)
        tracker.clearTempoRestriction()
        #expect(!tracker.isRestricted)
    }

    /// A seed puts the tracker at that tempo and phase now; the music then moves it.
    @Test func seedSetsTempoAndPhase() {
        let tracker = ForwardBeatTracker(config: TrackerConfig(), frameRate: 100)
        for _ in 0..<100 { _ = tracker.process(activation: 0.02, informative: false) }
        // 150 BPM (40 frames), 10 frames after a beat.
        #expect(tracker.seed(interval: 40, framesSinceBeat: 10))
        #expect(abs(tracker.distribution.reduce(0, +) - 1) < 1e-9)
        var steps: [TrackerStep] = []
        for _ in 0..<200 { steps.append(tracker.process(activation: 0.02, informative: false)) }
        #expect(abs(steps[0].tempo - 150) < 1e-9 && abs(steps[0].phaseFrames - 11) < 0.05, "\(steps[0])")
        #expect(steps[0].confidence > 0.9)
        #expect(abs(steps[29].phaseFrames) < 0.05 || abs(steps[29].phaseFrames - 40) < 0.05, "\(steps[29])")
        // Fractional: 37.5 frames, 0.25 frames after a beat.
        #expect(tracker.seed(interval: 37.5, framesSinceBeat: 0.25))
        let s = tracker.process(activation: 0.02, informative: false)
        #expect(abs(s.meanInterval - 37.5) < 0.5 && abs(s.phaseFrames - 1.25) < 0.3, "\(s)")
        // Restricted away from the seed: refused, nothing changed.
        #expect(tracker.restrictTempo(minBPM: 55, maxBPM: 100))
        let before = Array(tracker.distribution)
        #expect(!tracker.seed(interval: 40, framesSinceBeat: 0))
        #expect(Array(tracker.distribution) == before)
        #expect(!tracker.seed(interval: .nan, framesSinceBeat: 0))
    }

    // MARK: Emitter

    @Test func holdFreewheelsIgnoringTheGateAndNudgeShifts() {
        var emitter = BeatEmitter(config: EmissionConfig(), frameRate: 100)
        emitter.hold(beat: 1.0, period: 0.5)
        var events: [BeatEvent] = []
        let silence = TrackerStep(frame: 0, state: 0, tempo: 80, phase: 0, isBeat: true, interval: 75,
                                  phaseFrames: 0, confidence: 0, meanInterval: 75)
        for f in 0..<400 {
            if f == 200 { emitter.nudge(by: 0.02) }
            if let e = emitter.process(step: silence, time: Double(f) / 100, gateOpen: false) { events.append(e) }
        }
        #expect(emitter.isLocked && emitter.isHolding)
        #expect(events.count == 8, "\(events.map(\.beatTime))")
        for e in events {
            let expected = e.beatTime < 2.05 ? (e.beatTime * 2).rounded() / 2 : (e.beatTime * 2).rounded() / 2 + 0.02
            #expect(abs(e.beatTime - expected) < 1e-9 && e.predicted && e.tempo == 120 && e.lead >= 0.05 - 1e-9, "\(e)")
        }
        emitter.release(at: 4.0)
        #expect(!emitter.isHolding && abs(emitter.anchor.time - 3.52) < 1e-9 && emitter.anchor.period == 0.5)
    }

    /// A reload that rebuilds the pipeline keeps range, nudges, meter and phrase.
    @Test func aNewPipelineTakesTheOperatorsSettings() throws {
        let old = try BeatPipeline(config: TactusConfig(), model: nil)
        for c: ControlCommand in [.range(minBPM: 80, maxBPM: 100), .nudge(milliseconds: 20), .meter(3), .phrase(8)] {
            #expect(old.control(c) == .applied)
        }
        let new = try BeatPipeline(config: TactusConfig(), model: nil)
        new.takeControl(from: old)
        #expect(new.controlState.range == 80...100 && new.controlState.rangeSource == .operator)
        #expect(new.tracker.isRestricted && new.tracker.allowedTempo == 80...100)
        #expect(abs(new.emitter.phaseOffset - 0.02) < 1e-12)
        #expect(new.controlState.bars.meter == 3 && new.controlState.bars.phrase == 8)
        // Untouched settings stay untouched.
        let plain = try BeatPipeline(config: TactusConfig(), model: nil)
        plain.takeControl(from: try BeatPipeline(config: TactusConfig(), model: nil))
        #expect(!plain.tracker.isRestricted && plain.emitter.phaseOffset == 0
                && plain.controlState.bars == BarCounter())
    }

    // MARK: Allocation

    /// Commands and the hops around them allocate nothing (the real-time rule).
    @Test(arguments: [0.0, 0.5])
    func noAllocationForCommandsOrHops(relockThreshold: Double) throws {
        var config = TactusConfig()
        config.tracker.relockThreshold = relockThreshold
        config.tracker.resetRate = 0.05
        let pipeline = try BeatPipeline(config: config, model: nil)
        let signal = ExampleSignal(tempo: 120, duration: 20)
        let commands: [(Int, ControlCommand)] = [
            (300, .tap), (350, .tap), (400, .tap), (450, .tap), (500, .half), (600, .double), (700, .release),
            (800, .release), (900, .range(minBPM: 80, maxBPM: 100)), (1000, .fullRange),
            (1050, .nudge(milliseconds: 12)),
            (1100, .hold), (1300, .tap), (1350, .tap), (1400, .tap), (1500, .release), (1550, .downbeat),
            (1600, .meter(3)), (1650, .phrase(8)), (1700, .range(minBPM: 150, maxBPM: 200)), (1800, .reset),
        ]
        var next = 0, results: [ControlResult] = []
        results.reserveCapacity(commands.count)
        var allocations = 0, events = 0
        signal.samples.withUnsafeBufferPointer { all in
            var offset = 0, hop = 0
            while offset < all.count {
                let n = min(441, all.count - offset)
                let block = UnsafeBufferPointer(rebasing: all[offset..<(offset + n)])
                if hop >= 100 { tactus_alloc_counting_begin() }
                while next < commands.count && commands[next].0 == hop {
                    results.append(pipeline.control(commands[next].1, at: Double(hop) / 100))
                    next += 1
                }
                pipeline.process(block) { if $0.event != nil { events += 1 } }
                if hop >= 100 { allocations += tactus_alloc_counting_end() }
                offset += n; hop += 1
            }
        }
        if tactus_alloc_counter_available() != 0 { #expect(allocations == 0) }
        #expect(results.count == commands.count)
        let expected: [ControlResult] = [.pending(taps: 1), .pending(taps: 2), .applied, .applied, .applied, .applied,
                                         .applied,
                                         .applied, .applied, .applied, .applied, .applied, .pending(taps: 1),
                                         .pending(taps: 2), .applied, .applied, .applied, .applied, .applied, .applied,
                                         .applied]
        #expect(results == expected)
        #expect(events > 20)
    }
}
