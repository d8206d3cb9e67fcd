@testable import TactusCore
import Testing

@Suite struct TrackerTests {
    @Test func stateSpaceMatchesMadmomDefaults() {
        let st = BeatStateSpace(minInterval: 60 * 100 / 215.0, maxInterval: 60 * 100 / 55.0)
        #expect(st.intervals.first == 28 && st.intervals.last == 109)
        #expect(st.intervals.count == 82)
        #expect(st.stateCount == (28...109).reduce(0, +))
        #expect(st.firstStates[1] == 28 && st.lastStates[0] == 27)
        #expect(st.positions[st.firstStates[5]] == 0)
    }

    @Test func logSpacedTempiReachTheRequestedCount() {
        let st = BeatStateSpace(minInterval: 60 * 100 / 215.0, maxInterval: 60 * 100 / 55.0, intervalCount: 40)
        #expect(st.intervals.count == 40)
        #expect(st.intervals.first == 28 && st.intervals.last == 109)
    }

    @Test func tempoTransitionsAreNormalised() {
        let st = BeatStateSpace(minInterval: 28, maxInterval: 109)
        let tm = BeatTransitionModel(stateSpace: st, lambda: 100)
        var rowSums = [Double](repeating: 0, count: st.intervals.count)
        for (to, froms) in tm.tempoFrom.enumerated() {
            for (k, from) in froms.enumerated() { rowSums[from] += tm.tempoProbability[to][k] }
        }
        for s in rowSums { #expect(abs(s - 1) < 1e-12) }
    }

    /// Impulses every 50 frames (120 BPM at 100 fps): after lock, beats every 50 frames.
    @Test func locksToAPeriodicActivation() {
        let tracker = ForwardBeatTracker(config: TrackerConfig(), frameRate: 100)
        var beats: [TrackerStep] = []
        for f in 0..<2000 {
            let a: Float = f % 50 == 7 ? 0.9 : 0.02
            let step = tracker.process(activation: a)
            if step.isBeat { beats.append(step) }
        }
        let late = beats.filter { $0.frame > 500 }
        #expect(late.count >= 29)
        #expect(late.allSatisfy { $0.frame % 50 == 7 })
        #expect(late.allSatisfy { abs($0.tempo - 120) < 1e-9 })
    }

    @Test func survivesDegenerateActivations() {
        let tracker = ForwardBeatTracker(config: TrackerConfig(), frameRate: 100)
        for a: Float in [.nan, 0, 1, .infinity, -.infinity, 0.5, 1, 1, 0, 0] {
            let step = tracker.process(activation: a)
            #expect(step.tempo.isFinite && step.phase.isFinite)
        }
        #expect(tracker.distribution.allSatisfy { $0.isFinite })
    }
}

@Suite struct ArgmaxTests {
    /// numpy's argmax: the first index of the largest value, ties included, whatever the lane.
    @Test func firstIndexOfTheMaximum() {
        let cases: [([Double], Int)] = [
            ([1, 5, 3, 5, 5], 1), ([0, 0, 0, 0, 0, 0, 0], 0), ([1, 2, 3, 4, 9, 9, 9, 9, 9], 4),
            ([3, 1, 1, 1, 2, 1, 3, 3], 0), ([1, 1, 1, 1, 1, 7], 5), ([2], 0), ([1, 1, 1, 8, 8, 1, 1, 8], 3),
        ]
        for (values, expected) in cases {
            #expect(values.withUnsafeBufferPointer { ForwardBeatTracker.firstArgmax($0.baseAddress!, $0.count) }
                    == expected)
        }
        var rng = SplitMix64(seed: 2)
        for _ in 0..<200 {
            let v = (0..<Int(rng.next() % 40 + 1)).map { _ in Double(rng.next() % 5) }
            let expected = v.firstIndex(of: v.max()!)!
            #expect(v.withUnsafeBufferPointer { ForwardBeatTracker.firstArgmax($0.baseAddress!, $0.count) } == expected)
        }
    }
}
