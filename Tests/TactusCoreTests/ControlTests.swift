@testable import TactusCore
import Testing

/// The pipeline on a generated signal with operator commands at given times (s). Commands are
/// applied between hops, as the daemon applies them after draining its queue.
private struct ControlRun {
    var events: [BeatEvent] = []
    var results: [ControlResult] = []
    var frames: [FrameResult] = []

    init(_ samples: [Float], config: TactusConfig = TactusConfig(), commands: [(Double, ControlCommand)] = [],
         keepFrames: Bool = false) throws {
        let pipeline = try BeatPipeline(config: config, model: nil)
        var pending = commands.sorted { $0.0 < $1.0 }[...]
        var events: [BeatEvent] = [], results: [ControlResult] = [], frames: [FrameResult] = []
        samples.withUnsafeBufferPointer { all in
            var offset = 0
            while offset < all.count {
                let now = Double(offset) / 44_100
                while let c = pending.first, c.0 <= now {
                    results.append(pipeline.control(c.1, at: c.0))
                    pending.removeFirst()
                }
                let n = min(441, all.count - offset)
                pipeline.process(UnsafeBufferPointer(rebasing: all[offset..<(offset + n)])) { r in
                    if let e = r.event { events.append(e) }
                    if keepFrames { frames.append(r) }
                }
                offset += n
            }
        }
        self.events = events
        self.results = results
        self.frames = frames
    }
}

/// Distance (s) from `t` to the nearest of `grid`.
private func distance(_ t: Double, to grid: [Double]) -> Double {
    grid.map { abs($0 - t) }.min() ?? .infinity
}

/// 90 BPM, then the same grid at 180 BPM from 10 to 20 s (twice the beats, drums on every one),
/// then 90 again. ExampleSignal alternates kick and snare, and the onset function hears the snare
/// louder: with `snaresOnTheBeat` the 180 section starts on a beat of the 90 grid, so that the
/// grid's beats there are the snares; else they are the kicks.
private func flippingSong(duration: Double = 30, snaresOnTheBeat: Bool = true) -> ExampleSignal {
    let beats = (0..<Int((duration - 0.55) * 3)).compactMap { j -> Double? in
        let t = 0.5 + Double(j) / 3
        return j % 2 == 0 || (t >= (snaresOnTheBeat ? 10.4 : 10) && t < 20) ? t : nil
    }
    return ExampleSignal(beats: beats, duration: duration)
}

/// Median of the distances (s, signed) from beat times to the nearest beat of `grid`.
private func medianResidual(_ times: [Double], to grid: [Double]) -> Double {
    let r = times.map { t in grid.map { t - $0 }.min { abs($0) < abs($1) } ?? .infinity }.sorted()
    return r.isEmpty ? .nan : r[r.count / 2]
}

@Suite struct ControlPipelineTests {
    /// Issue 20: taps at 120 BPM with ±15 ms jitter set tempo and phase after the 4th tap. The
    /// tracker is first put on the wrong level (`half`: 60 BPM); the taps end that range lock and
    /// re-seed it, and it follows the music from there.
    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func tapsSetTempoAndPhase(seed: UInt64) throws {
        let song = ExampleSignal(tempo: 120, duration: 20)
        var rng = SplitMix64(seed: seed)
        let tapTimes = [10.0, 10.5, 11.0, 11.5].map { $0 + 0.015 * rng.nextSigned() }
        var commands: [(Double, ControlCommand)] = [(6, .half)]
        commands += tapTimes.map { ($0, .tap) }
        let run = try ControlRun(song.samples, commands: commands)
        #expect(run.results[0] == .applied)
        #expect(Array(run.results[1...]) == [.pending(taps: 1), .pending(taps: 2), .applied, .applied])
        let before = run.events.filter { $0.beatTime > 7.5 && $0.beatTime < 10 }
        #expect(!before.isEmpty && before.allSatisfy { abs($0.tempo - 60) < 2 }, "\(before.map(\.tempo))")
        let after = run.events.filter { $0.beatTime > tapTimes[3] + 0.1 && $0.beatTime < 19.6 }
        #expect(after.count >= 15)
        // The first beat is as good as the taps (four taps ±15 ms can say 121.7 BPM: seed 6);
        // the tracker, re-seeded there, follows the music: within 15 ms from the 2nd beat after
        // the 4th tap, and within 0.5 BPM from the 3rd.
        for (n, e) in after.enumerated() {
            #expect(distance(e.beatTime, to: song.beats) <= (n < 1 ? 0.025 : 0.015),
                    "phase, beat \(n + 1) after the 4th tap: \(e)")
            #expect(abs(e.tempo - 120) <= (n < 2 ? 2.5 : 0.5), "tempo, beat \(n + 1) after the 4th tap: \(e.tempo)")
        }
    }

    /// Taps without music: a hold takes the tapped grid at once.
    @Test func tapsWhileHoldingSetTheHeldGrid() throws {
        let song = ExampleSignal(tempo: 100, duration: 8)
        let samples = song.samples + [Float](repeating: 0, count: 8 * 44_100)
        let taps = [9.0, 9.5, 10.0, 10.5, 11.0].map { ($0 + 0.002, ControlCommand.tap) }
        let run = try ControlRun(samples, commands: [(6, .hold)] + taps)
        #expect(run.results.suffix(3) == [.applied, .applied, .applied])
        let after = run.events.filter { $0.beatTime > 11.1 }
        #expect(after.count >= 8)
        for e in after {
            #expect(abs(e.tempo - 120) < 1e-6)
            #expect(distance(e.beatTime, to: stride(from: 9.002, to: 17, by: 0.5).map { $0 }) < 1e-6, "\(e.beatTime)")
        }
    }

    /// Issue 20: `half` on a 140 BPM track gives 70 BPM on the next beats and does not jump back
    /// over 30 s.
    @Test func halfStaysOnTheSlowerLevel() throws {
        let song = ExampleSignal(tempo: 140, duration: 40)
        let run = try ControlRun(song.samples, commands: [(8, .half)])
        #expect(run.results == [.applied])
        let before = run.events.filter { $0.beatTime > 5 && $0.beatTime < 8 }
        #expect(before.allSatisfy { abs($0.tempo - 140) < 2 })
        let after = run.events.filter { $0.beatTime > 8.1 && $0.beatTime < 39.7 }
        #expect(after.first.map { $0.beatTime < 8 + 60.0 / 70 + 0.1 } == true, "the next beat is at 70 BPM")
        #expect(after.count >= 33 && after.last.map { $0.beatTime > 38 } == true, "\(after.count)")
        for e in after {
            #expect(abs(e.tempo - 70) < 1.5, "\(e)")
            // The tracker's phase at 70 BPM on a 140 BPM track drifts by up to 30-odd ms.
            #expect(distance(e.beatTime, to: song.beats) < 0.04, "on the song's beats: \(e)")
        }
        // 70 BPM: about 0.857 s between beats (one slip of the tracker from kick to snare is a
        // tracker matter: the range lock keeps the level, not which beat of the two).
        let gaps = zip(after, after.dropFirst()).map { $1.beatTime - $0.beatTime }
        #expect(gaps.filter { abs($0 - 60.0 / 70) < 0.05 }.count >= gaps.count - 2, "\(gaps)")
        #expect(gaps.allSatisfy { $0 > 0.4 })
    }

    /// `double` after a `half` (the onset function tracks this 100 BPM groove at its 200 BPM
    /// hi-hats), then `release` ends the octave lock.
    /// With bars counted from the operator's downbeat, `half` keeps beats 1 and 3, and bar lines
    /// stay bar lines (the meter, 4, now counts beats at 70 BPM: a bar is two of the old ones).
    @Test(arguments: [10, 11])
    func halfKeepsTheBarLines(downbeatIndex: Int) throws {
        let song = ExampleSignal(tempo: 140, duration: 14)
        let downbeat = song.beats[downbeatIndex]
        let run = try ControlRun(song.samples, commands: [(downbeat - 0.2, .downbeat), (8.3, .half)])
        #expect(run.results == [.applied, .applied])
        let after = run.events.filter { $0.beatTime > 8.4 }.prefix(4)
        #expect(after.count == 4)
        for e in after {
            let k = Int(((e.beatTime - 0.5) / (60.0 / 140)).rounded())
            #expect((k - downbeatIndex) % 2 == 0, "\(k): \(e)")
            // Old bar lines (every 4th beat from the downbeat) are beats 1 or 3 now.
            #expect(((k - downbeatIndex) % 4 == 0) == [1, 3].contains(e.beatInBar), "\(k): \(e)")
        }
    }

    @Test func doubleAndRelease() throws {
        let song = ExampleSignal(tempo: 100, duration: 24)
        let run = try ControlRun(song.samples, commands: [(4, .half), (10, .double), (16, .release)])
        #expect(run.results == [.applied, .applied, .applied])
        let eighths = song.beats.flatMap { [$0, $0 + 0.3] }
        let halved = run.events.filter { $0.beatTime > 4.1 && $0.beatTime < 10 }
        #expect(halved.count >= 8 && halved.allSatisfy { abs($0.tempo - 100) < 2 }, "\(halved.map(\.tempo))")
        let doubled = run.events.filter { $0.beatTime > 10.1 && $0.beatTime < 23.6 }
        #expect(doubled.count >= 40 && doubled.allSatisfy { abs($0.tempo - 200) < 4 }, "\(doubled.map(\.tempo))")
        #expect((halved + doubled).allSatisfy { distance($0.beatTime, to: eighths) < 0.02 })
        #expect(try ControlRun(song.samples, commands: [(6, .double)]).results == [.rejected(.outsideConfiguredRange)],
                "400 BPM is outside tracker.max_bpm")
    }

    /// Issue 20: `range 80 100` keeps a track that flips between 90 and 180 on 90. Without it the
    /// tracker follows the hi-hats at 180 BPM.
    @Test func rangeKeepsTheTempoInside() throws {
        let song = flippingSong()
        let free = try ControlRun(song.samples)
        #expect(free.events.filter { $0.tempo > 150 }.count > free.events.count / 2, "the control: 180 without a range")
        let ranged = try ControlRun(song.samples, commands: [(0, .range(minBPM: 80, maxBPM: 100))])
        #expect(ranged.results == [.applied])
        #expect(ranged.events.count >= 40)
        let beats = ranged.events.filter { $0.beatTime < 29.7 }
        for e in beats {
            #expect(e.tempo >= 80 && e.tempo <= 100, "\(e)")
            if e.beatTime > 3 { #expect(distance(e.beatTime, to: song.beats) < 0.03, "on the song's beats: \(e)") }
        }
        // Every 2/3 s, on the 90 BPM beats throughout.
        let grid90 = stride(from: 0.5, to: 30, by: 2.0 / 3).map { $0 }
        #expect(beats.filter { $0.beatTime > 3 }.allSatisfy { distance($0.beatTime, to: grid90) < 0.03 })
        let gaps = zip(beats, beats.dropFirst()).map { $1.beatTime - $0.beatTime }
        #expect(gaps.allSatisfy { abs($0 - 2.0 / 3) < 0.04 }, "\(gaps)")
        // The other way round, the 90 BPM grid may move to the 180 section's snares (one beat a
        // 180 BPM beat early) and back when the 90 returns; the tempo stays.
        let kicks = flippingSong(snaresOnTheBeat: false)
        let other = try ControlRun(kicks.samples, commands: [(0, .range(minBPM: 80, maxBPM: 100))])
        #expect(other.events.count >= 40 && other.events.allSatisfy { $0.tempo >= 80 && $0.tempo <= 100 })
        #expect(other.events.filter { $0.beatTime > 3 && $0.beatTime < 29.7 }
            .allSatisfy { distance($0.beatTime, to: kicks.beats + kicks.beats.map { $0 + 1.0 / 3 }) < 0.03 })
        // Set while the tracker is at 180: it moves by an octave into the range, on the beats.
        let late = try ControlRun(song.samples, commands: [(5, .range(minBPM: 80, maxBPM: 100))])
        let after = late.events.filter { $0.beatTime > 5.1 && $0.beatTime < 29.7 }
        #expect(after.count >= 30 && after.allSatisfy { $0.tempo >= 80 && $0.tempo <= 100 })
        #expect(after.allSatisfy { distance($0.beatTime, to: song.beats) < 0.03 })
        // `range` without arguments: the configured range again (the tracker may stay at 90).
        let restored = try ControlRun(song.samples, commands: [(0, .range(minBPM: 80, maxBPM: 100)), (5, .fullRange)])
        #expect(restored.results == [.applied, .applied])
        #expect(try ControlRun([Float](repeating: 0, count: 441), commands: [
            (0, .range(minBPM: 300, maxBPM: 400)), (0, .range(minBPM: 100, maxBPM: 90)),
            (0, .range(minBPM: .nan, maxBPM: 90)),
        ]).results == [.rejected(.outsideConfiguredRange), .rejected(.invalidArgument), .rejected(.invalidArgument)])
    }

    /// Issue 20: `hold` keeps tempo and phase through 10 s of silence and through a different song;
    /// `release` follows the music again.
    @Test func holdFreewheelsThroughSilenceAndAnotherSong() throws {
        let a = ExampleSignal(tempo: 120, duration: 12)
        let b = ExampleSignal(tempo: 100, duration: 16, firstBeat: 0.23, seed: 7)
        let samples = a.samples + [Float](repeating: 0, count: 10 * 44_100) + b.samples
        let bBeats = b.beats.map { $0 + 22 }
        let run = try ControlRun(samples, commands: [(10, .hold), (30, .release)])
        #expect(run.results == [.applied, .applied])
        let held = run.events.filter { $0.beatTime > 10.1 && $0.beatTime < 30 }
        #expect(held.count >= 38, "\(held.count)")
        let period = held[1].beatTime - held[0].beatTime
        #expect(abs(period - 0.5) < 0.002)
        for (x, y) in zip(held, held.dropFirst()) { #expect(abs(y.beatTime - x.beatTime - period) < 1e-9) }
        for e in held {
            #expect(e.predicted && abs(e.tempo - 60 / period) < 1e-9)
            #expect(e.emissionTime <= e.beatTime - 0.05 + 1e-9, "sent ahead: \(e)")
        }
        // Phase: the held grid stays on song A's beats (drift of the period only, < 1 ms/beat).
        let gridA = stride(from: 0.5, to: 31, by: 0.5).map { $0 }
        #expect(held.allSatisfy { distance($0.beatTime, to: gridA) < 0.005 })
        // Without the hold: nothing in the silence.
        let free = try ControlRun(samples)
        #expect(!free.events.contains { $0.beatTime > 12.5 && $0.beatTime < 22 })
        // After the release: song B's beats, at 200 BPM (its hi-hats) as without the hold.
        let bEighths = bBeats.flatMap { [$0, $0 + 0.3] }
        let after = run.events.filter { $0.beatTime > 31.5 && $0.beatTime < 37.7 }
        #expect(after.count >= 15)
        #expect(after.allSatisfy { abs($0.tempo - 200) < 4 && distance($0.beatTime, to: bEighths) < 0.02 },
                "\(after.map { ($0.beatTime, $0.tempo) })")
        #expect(free.events.filter { $0.beatTime > 31.5 && $0.beatTime < 37.7 }.allSatisfy { abs($0.tempo - 200) < 4 })
    }

    /// Issue 20: `downbeat` makes the next beat beat 1 (or the nearest within a quarter beat),
    /// bars count on; meter and phrase.
    @Test func downbeatAndMeterSetTheBars() throws {
        let song = ExampleSignal(tempo: 120, duration: 24)
        // Counted from the first beat before any downbeat.
        let counted = try ControlRun(song.samples)
        #expect(counted.events.first.map { $0.beatInBar == 1 && $0.bar == 1 && $0.phraseBar == 1 } == true)
        for (n, e) in counted.events.enumerated() {
            #expect(e.beatInBar == n % 4 + 1 && e.bar == n / 4 + 1 && e.phraseBar == (n / 4) % 4 + 1
                    && e.barSource == .count)
        }
        func check(_ run: ControlRun, firstDownbeat: Double, meter: Int = 4) {
            let from = run.events.filter { $0.beatTime > firstDownbeat - 0.1 }
            let one = from.first!
            #expect(abs(one.beatTime - firstDownbeat) < 0.03 && one.beatInBar == 1 && one.phraseBar == 1
                    && one.barSource == .operator, "\(one)")
            for (n, e) in from.enumerated() {
                #expect(e.beatInBar == n % meter + 1 && e.bar == one.bar + n / meter && e.barSource == .operator,
                        "\(n): \(e)")
                #expect(e.phraseBar == (n / meter) % 4 + 1)
            }
        }
        // A quarter beat or more before a beat: that next beat is beat 1.
        let next = try ControlRun(song.samples, commands: [(10.3, .downbeat)])
        check(next, firstDownbeat: 10.5)
        // Just after a beat (already sent ahead): that beat was beat 1, the next is beat 2.
        let late = try ControlRun(song.samples, commands: [(10.58, .downbeat)])
        let after = late.events.filter { $0.beatTime > 10.6 }
        #expect(after.first.map { $0.beatInBar == 2 && abs($0.beatTime - 11) < 0.03 } == true)
        #expect(late.events.last { $0.beatTime < 10.6 }.map { $0.beatInBar != 1 || $0.bar == 3 } == true)
        // Meter 3 from the downbeat on.
        let waltz = try ControlRun(song.samples, commands: [(10.0, .meter(3)), (10.3, .downbeat)])
        check(waltz, firstDownbeat: 10.5, meter: 3)
        #expect(try ControlRun([], commands: []).events.isEmpty)
        let bad = try ControlRun([Float](repeating: 0, count: 441),
                                 commands: [(0, .meter(0)), (0, .phrase(1000)), (0, .phrase(8))])
        #expect(bad.results == [.rejected(.invalidArgument), .rejected(.invalidArgument), .applied])
    }

    /// Issue 20: `nudge` moves the next beats by the asked milliseconds.
    @Test func nudgeMovesTheBeats() throws {
        let song = ExampleSignal(tempo: 120, duration: 24)
        let run = try ControlRun(song.samples,
                                 commands: [(10, .nudge(milliseconds: 20)), (16, .nudge(milliseconds: -35))])
        #expect(run.results == [.applied, .applied])
        func residual(_ lo: Double, _ hi: Double) -> Double {
            medianResidual(run.events.filter { $0.beatTime > lo && $0.beatTime < hi }.map(\.beatTime), to: song.beats)
        }
        let r0 = residual(4, 10), r1 = residual(10.1, 16), r2 = residual(16.1, 24)
        #expect(abs(r1 - r0 - 0.020) < 0.001, "\(r0) \(r1)")
        #expect(abs(r2 - r1 + 0.035) < 0.001, "\(r1) \(r2)")
        // The very next beat already moved.
        let first = run.events.first { $0.beatTime > 10.1 }!
        #expect(abs(first.beatTime - 10.5 - 0.020 - r0) < 0.002)
        #expect(try ControlRun([], commands: []).results.isEmpty)
    }

    /// `reset` clears what the operator set and re-acquires from the music.
    @Test func resetClearsEverything() throws {
        let song = ExampleSignal(tempo: 140, duration: 24)
        let run = try ControlRun(song.samples, commands: [
            (5, .half), (5.5, .nudge(milliseconds: 40)), (6, .downbeat), (6, .meter(3)), (10, .reset),
        ])
        #expect(run.results.allSatisfy { $0 == .applied })
        let late = run.events.filter { $0.beatTime > 16 }
        #expect(late.count >= 12)
        #expect(late.allSatisfy { abs($0.tempo - 140) < 2 && distance($0.beatTime, to: song.beats) < 0.02 })
        #expect(late.allSatisfy { $0.barSource == .count && $0.beatInBar <= 4 })
        #expect(late.contains { $0.beatInBar == 4 })
        // Counts keep rising; no beat twice.
        #expect(run.events.map(\.count) == Array(1...run.events.count))
        for (x, y) in zip(run.events, run.events.dropFirst()) { #expect(y.beatTime - x.beatTime > 0.2) }
    }

    /// Commands before anything was heard.
    @Test func commandsWithoutATempoAreRejected() throws {
        let run = try ControlRun([Float](repeating: 0, count: 4410), commands: [
            (0, .half), (0, .double), (0, .hold), (0, .release), (0, .downbeat), (0, .nudge(milliseconds: 5000)),
        ])
        #expect(run.results == [.rejected(.noTempo), .rejected(.noTempo), .rejected(.noTempo), .applied, .applied,
                                .rejected(.invalidArgument)])
        #expect(run.events.isEmpty)
    }
}




