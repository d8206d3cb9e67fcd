import TactusCore
import Testing

@Suite struct MIDIClockTests {
    /// Drives the generator as the daemon does: beats announced `lead` before they sound, the clock
    /// advanced every 10 ms hop.
    func run(beats: [(time: Double, tempo: Double)], until end: Double, lead: Double = 0.05,
             clock: inout MIDIClockGenerator) -> [MIDIClockEvent] {
        var out: [MIDIClockEvent] = []
        var next = 0
        for hop in 0...Int((end * 100).rounded()) {
            let t = Double(hop) / 100
            while next < beats.count && beats[next].time - lead <= t {
                clock.beat(at: beats[next].time, tempo: beats[next].tempo, predicted: true)
                next += 1
            }
            out += clock.advance(to: t)
        }
        return out
    }

    @Test func steadyTempoGivesAnExactGrid() {
        var clock = MIDIClockGenerator()
        let beats = (0..<40).map { (time: 1.0 + Double($0) * 0.5, tempo: 120.0) }
        let events = run(beats: beats, until: 20.3, clock: &clock)
        #expect(events.first == MIDIClockEvent(kind: .start, time: 1.0))
        #expect(events.dropFirst().first == MIDIClockEvent(kind: .tick, time: 1.0), "the first tick is the first beat")
        let ticks = events.filter { $0.kind == .tick }.map(\.time)
        // Ticks from 1.0 s to the last hop (20.3 s), 24 per half second.
        #expect(ticks.count == Int((20.3 - 1.0) / (0.5 / 24)) + 1)
        // Jitter against the ideal grid (ticks vs ideal times): under 0.1 ms.
        let worst = ticks.enumerated().map { abs($0.element - (1.0 + Double($0.offset) * 0.5 / 24)) }.max() ?? 1
        #expect(worst < 1e-4, "worst tick error \(worst * 1000) ms")
        // Every beat lands on a tick: the 24th tick after each beat.
        for (i, b) in beats.prefix(39).enumerated() { #expect(abs(ticks[i * 24] - b.time) < 1e-4) }
    }

    @Test func jitteredBeatsMoveThePeriodByAtMostTwoPercentPerBeat() {
        var clock = MIDIClockGenerator()
        var rng = SplitMix64(seed: 4)
        let beats = (0..<60).map { (time: 1.0 + Double($0) * 0.5 + 0.005 * rng.nextSigned(), tempo: 120.0) }
        var periods: [Double] = []
        var next = 0
        var t = 0.0
        while t <= 30 {
            while next < beats.count && beats[next].time - 0.05 <= t {
                let before = clock.tickPeriod
                clock.beat(at: beats[next].time, tempo: 120, predicted: true)
                if next > 0 { #expect(abs(clock.tickPeriod / before - 1) <= 0.02 + 1e-12) }
                periods.append(clock.tickPeriod)
                next += 1
            }
            _ = clock.advance(to: t)
            t += 0.01
        }
        // Still on tempo on average.
        let mean = periods.dropFirst(5).reduce(0, +) / Double(periods.count - 5)
        #expect(abs(mean * 24 - 0.5) < 0.002)
    }

    @Test func followsATempoStepSmoothly() {
        var clock = MIDIClockGenerator()
        var beats: [(time: Double, tempo: Double)] = []
        var t = 1.0
        for i in 0..<60 {
            let tempo = i < 20 ? 120.0 : 130.0
            beats.append((t, tempo))
            t += 60 / tempo
        }
        let events = run(beats: beats, until: t - 0.1, clock: &clock)
        let ticks = events.filter { $0.kind == .tick }.map(\.time)
        let spacings = zip(ticks, ticks.dropFirst()).map { $1 - $0 }
        #expect(abs(spacings.last! - 60.0 / 130 / 24) < 60.0 / 130 / 24 * 0.005, "settled at 130 BPM")
        // Each beat's worth of ticks changes by at most 2 %.
        for k in stride(from: 24, to: spacings.count - 24, by: 24) {
            #expect(abs(spacings[k] / spacings[k - 24] - 1) <= 0.0201)
        }
        #expect(!events.contains { if case .songPosition = $0.kind { return true } else { return false } })
    }

    @Test func stopsWhenTheBeatsStopAndRealignsAfterAPhaseJump() {
        var clock = MIDIClockGenerator()
        var beats = (0..<10).map { (time: 1.0 + Double($0) * 0.5, tempo: 120.0) }
        // Half a beat off from 6.25 s on: the tracker changed phase.
        beats += (0..<10).map { (time: 6.25 + Double($0) * 0.5, tempo: 120.0) }
        let events = run(beats: beats, until: 15, clock: &clock)
        let position = events.first { if case .songPosition = $0.kind { return true } else { return false } }
        #expect(position?.time == 6.25)
        #expect(position.map { $0.bytes.first } == 0xF2)
        #expect(events.contains(MIDIClockEvent(kind: .continue, time: 6.25)))
        // After the last beat (10.75 s), Stop within two beats.
        let stop = events.last { $0.kind == .stop }
        #expect(stop != nil && stop!.time > 10.75 && stop!.time <= 11.8)
        #expect(!events.contains { $0.kind == .tick && $0.time > stop!.time })
    }

    /// Issue 20: once the operator set bar 1, followers' song position follows it: a beat whose
    /// song position differs from the clock's count re-aligns with Stop, Song Position, Continue.
    @Test func theOperatorsBarsMoveTheSongPosition() {
        var clock = MIDIClockGenerator()
        for k in 0..<4 {
            clock.beat(at: 1 + Double(k) * 0.5, tempo: 120, predicted: true)
            _ = clock.advance(to: 1 + Double(k) * 0.5)
        }
        // The operator's downbeat: the next beat is bar 1, beat 1 (song beat 0), not beat 4.
        #expect(MIDIClockGenerator.songBeat(bar: 1, beatInBar: 1, meter: 4) == 0)
        clock.beat(at: 3.0, tempo: 120, predicted: true, songBeat: 0)
        let out = clock.advance(to: 3.0)
        #expect(out.map(\.kind).prefix(3) == [.stop, .songPosition(0), .continue])
        // The next beats agree: no more transport messages.
        clock.beat(at: 3.5, tempo: 120, predicted: true, songBeat: 1)
        #expect(clock.advance(to: 3.6).allSatisfy { $0.kind == .tick })
        // Bar 3, beat 2 in 3/4 is song beat 7 (16th note 28); bars wrap to fit 14 bits.
        #expect(MIDIClockGenerator.songBeat(bar: 3, beatInBar: 2, meter: 3) == 7)
        #expect(MIDIClockGenerator.songBeat(bar: 1_024, beatInBar: 1, meter: 4) == 0, "1023 bars of 4 fit")
        #expect(MIDIClockGenerator.songBeat(bar: 1, beatInBar: 5, meter: 4) == nil)
        // Starting mid-song: Song Position and Continue instead of Start.
        var late = MIDIClockGenerator()
        late.beat(at: 1, tempo: 120, predicted: true, songBeat: 6)
        #expect(late.advance(to: 1).map(\.kind).prefix(2) == [.songPosition(24), .continue])
    }

    @Test func wireBytes() {
        #expect(MIDIClockEvent(kind: .songPosition(200), time: 0).bytes == [0xF2, 200 & 0x7F, 200 >> 7])
        #expect(MIDIClockEvent(kind: .tick, time: 0).bytes == [0xF8])
    }
}
