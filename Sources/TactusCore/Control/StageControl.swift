import Glibc

/// The operator's state in the core (issue 20): what the tracker may believe (tempo range, a hold,
/// a re-seed from taps or a change of metrical level) and how beats are counted (bars, phrases,
/// nudges). `BeatPipeline` owns one and applies commands to its tracker and emitter at a hop
/// boundary (`BeatPipeline.control(_:at:)`); every frame it tells it the tracker's step
/// (`observe`) and has it count the beats sent (`annotate`). All storage is allocated in `init`:
/// neither a command nor a hop allocates, and the tracker's state space stays as configured.
public final class StageControl {
    /// Whether the tempo range in force came from the operator's `range` or from `half`/`double`.
    public enum RangeSource: UInt8, Sendable, Equatable, BitwiseCopyable { case configured, `operator`, octave }

    public let frameRate: Double
    public let taps = TapTempo()
    public private(set) var bars = BarCounter()
    /// Freewheeling: the tracker hears nothing and beats continue on the held grid.
    public private(set) var isHolding = false
    public private(set) var rangeSource = RangeSource.configured
    /// The tempo range the operator or a change of level set (BPM); the configured one otherwise.
    public private(set) var range: ClosedRange<Double>
    /// Time (s) of the last frame processed; −1 frame before the first.
    public private(set) var lastTime: Double
    private var lastStep: TrackerStep?
    private let configuredRange: ClosedRange<Double>
    /// The last `historySeconds` of activations (a ring; `frames` written so far): which of the
    /// beats a change of level keeps is the music's choice (`strongerPhase`).
    public static let historySeconds = 4.0
    private let history: UnsafeMutableBufferPointer<Float>
    private var frames = 0

    public init(frameRate: Double, tempoRange: ClosedRange<Double>) {
        self.frameRate = frameRate
        configuredRange = tempoRange
        range = tempoRange
        lastTime = -1 / frameRate
        history = .allocate(capacity: max(1, Int((Self.historySeconds * frameRate).rounded())))
        history.initialize(repeating: 0)
    }

    deinit { history.deallocate() }

    // MARK: Per-frame hooks

    /// The tracker's step for the frame at `time` (s) and the frame's activation: the tempo and
    /// phase commands act on.
    public func observe(step: TrackerStep, time: Double, activation: Float = 0) {
        lastStep = step
        lastTime = time
        history[frames % history.count] = activation
        frames += 1
    }

    /// The activation around stream time `t` (s): the largest within ±2 frames; nil outside the
    /// history.
    private func activation(at t: Double) -> Float? {
        let back = Int(((lastTime - t) * frameRate).rounded())
        guard back >= 2, back + 2 < min(frames, history.count) else { return nil }
        var best: Float = 0
        for b in (back - 2)...(back + 2) { best = max(best, history[(frames - 1 - b) % history.count]) }
        return best
    }

    /// Of the `m` interleaved beat series a slower level could keep (the grid's beat, the one
    /// before it, …), the one whose beats the network heard strongest over the history: the
    /// strong beats of the bar carry the kick and the bass, the weak ones less. 0 (the grid's
    /// own beat) when nothing was heard.
    private func strongerPhase(_ g: (beat: Double, period: Double), m: Int, offset: Double) -> Int {
        var best = 0, bestMean: Float = 0
        for j in 0..<m {
            var sum: Float = 0, n = 0
            var k = 0
            while k < 64 {
                let t = g.beat - offset - Double(j + k * m) * g.period
                if t < lastTime - Self.historySeconds { break }
                if let a = activation(at: t) { sum += a; n += 1 }
                k += 1
            }
            let mean = n > 0 ? sum / Float(n) : 0
            if mean > bestMean * 1.05 { best = j; bestMean = mean }
        }
        return best
    }

    /// Counts a beat that leaves into bars and phrases.
    public func annotate(_ event: inout BeatEvent) {
        let p = bars.next(beatTime: event.beatTime)
        event.beatInBar = p.beatInBar
        event.bar = p.bar
        event.phraseBar = p.phraseBar
        event.phrase = bars.phraseCount
        event.meter = bars.meter
        event.barSource = p.source
    }

    /// The pipeline started over (a new stream clock): hold, taps and the bar count go; range,
    /// meter and phrase stay (the trackers keep their restriction through a reset).
    public func pipelineDidReset() {
        isHolding = false
        taps.clear()
        bars.restartCount()
        lastStep = nil
        lastTime = -1 / frameRate
        frames = 0
    }

    /// Takes over `other`'s lasting settings (a reload that rebuilt the pipeline): the tempo range
    /// (when the new state space has tempi inside it), meter and phrase. A hold, taps and the bar
    /// count belong to the old stream clock and stay behind. Called off the per-hop path.
    public func adoptSettings(from other: StageControl, tracker: ForwardBeatTracker, explorer: ForwardBeatTracker?) {
        _ = bars.setMeter(other.bars.meter)
        _ = bars.setPhrase(other.bars.phrase)
        let t = Targets(tracker: tracker, explorer: explorer)
        if other.rangeSource != .configured && t.restrict(other.range.lowerBound, other.range.upperBound) {
            rangeSource = other.rangeSource
            range = other.range
        }
    }

    // MARK: Commands

    /// Applies `command`, which arrived at `time` (s, the pipeline's stream clock), to the
    /// trackers and the emitter. No allocation.
    public func apply(_ command: ControlCommand, at time: Double, tracker: ForwardBeatTracker,
                      explorer: ForwardBeatTracker?, relock: inout RelockDetector,
                      emitter: inout BeatEmitter) -> ControlResult {
        var t = Targets(tracker: tracker, explorer: explorer)
        defer { if t.seeded { relock.reset() } }
        switch command {
        case .tap:
            return tap(at: time, &t, &emitter)
        case .half:
            return changeLevel(factor: 0.5, &t, &emitter)
        case .double:
            return changeLevel(factor: 2, &t, &emitter)
        case .nudge(let ms):
            guard ms.isFinite, abs(ms) <= 1000 else { return .rejected(.invalidArgument) }
            emitter.nudge(by: ms / 1000)
            return .applied
        case .range(let lo, let hi):
            guard lo.isFinite, hi.isFinite, lo > 0, lo < hi else { return .rejected(.invalidArgument) }
            let grid = currentGrid(emitter)
            guard t.restrict(lo, hi) else { return .rejected(.outsideConfiguredRange) }
            rangeSource = .operator
            range = lo...hi
            if !isHolding, let g = grid { fold(g, &t, &emitter) }
            return .applied
        case .fullRange:
            t.clearRestriction()
            rangeSource = .configured
            range = configuredRange
            return .applied
        case .hold:
            guard !isHolding else { return .applied }
            guard let g = currentGrid(emitter) else { return .rejected(.noTempo) }
            emitter.setAnchor(beat: g.beat, period: g.period,
                              confidence: max(emitter.anchor.confidence, emitter.config.lockThreshold))
            emitter.hold(beat: g.beat, period: g.period)
            isHolding = true
            return .applied
        case .release:
            if rangeSource == .octave {
                t.clearRestriction()
                rangeSource = .configured
                range = configuredRange
            }
            if isHolding, let g = emitter.heldGrid {
                isHolding = false
                emitter.release(at: lastTime)
                // Follow the music again from the held tempo and phase (within a range in force).
                if !fold(g, &t, &emitter) { seed(g, &t, emitter) }
            }
            isHolding = false
            return .applied
        case .downbeat:
            let period = currentGrid(emitter)?.period ?? emitter.anchor.period
            bars.downbeat(at: time, period: period)
            return .applied
        case .meter(let n):
            return bars.setMeter(n) ? .applied : .rejected(.invalidArgument)
        case .phrase(let n):
            return bars.setPhrase(n) ? .applied : .rejected(.invalidArgument)
        case .reset:
            isHolding = false
            t.clearRestriction()
            rangeSource = .configured
            range = configuredRange
            taps.clear()
            bars = BarCounter()
            emitter.dropControl()
            tracker.reacquire()
            explorer?.reacquire()
            t.seeded = true
            return .applied
        }
    }

    /// The trackers a command acts on: the main one and the re-lock test's looser one alike, so
    /// that a hand-over cannot undo the operator.
    private struct Targets {
        let tracker: ForwardBeatTracker
        let explorer: ForwardBeatTracker?
        var seeded = false

        func restrict(_ lo: Double, _ hi: Double) -> Bool {
            guard tracker.restrictTempo(minBPM: lo, maxBPM: hi) else { return false }
            explorer?.restrictTempo(minBPM: lo, maxBPM: hi)
            return true
        }

        func clearRestriction() {
            tracker.clearTempoRestriction()
            explorer?.clearTempoRestriction()
        }
    }

    /// The beat grid the operator hears now: a held grid; else, while locked, the last beat sent
    /// and the anchor's period; else a recent anchor; else the tracker's last step if confident.
    /// Beat times include the emitter's offsets (s).
    private func currentGrid(_ emitter: BeatEmitter) -> (beat: Double, period: Double)? {
        if let g = emitter.heldGrid { return g }
        let a = emitter.anchor
        if emitter.isLocked && emitter.lastSentTime.isFinite && lastTime - emitter.lastSentTime <= 2 * a.period {
            return (emitter.lastSentTime, a.period)
        }
        if a.time.isFinite && lastTime - a.time <= 2 * a.period && a.confidence >= 0.7 * emitter.config.lockThreshold {
            return (a.time, a.period)
        }
        if let s = lastStep, s.interval > 0, s.meanInterval > 0, s.confidence >= 0.7 * emitter.config.lockThreshold {
            return (lastTime - s.phaseFrames / frameRate + emitter.beatOffset, s.meanInterval / frameRate)
        }
        return nil
    }

    /// Re-seeds both trackers on the grid (beat time with the emitter's offsets, period in s).
    /// `floor`: the share of the start distribution kept beside it (`ForwardBeatTracker.seed`).
    @discardableResult
    private func seed(_ g: (beat: Double, period: Double), _ t: inout Targets, _ emitter: BeatEmitter,
                      floor: Double = 1e-6) -> Bool {
        let interval = g.period * frameRate
        let since = (lastTime - (g.beat - emitter.beatOffset)) * frameRate
        guard t.tracker.seed(interval: interval, framesSinceBeat: since, floor: floor) else { return false }
        t.explorer?.seed(interval: interval, framesSinceBeat: since, floor: floor)
        t.seeded = true
        return true
    }

    private func tap(at time: Double, _ t: inout Targets, _ emitter: inout BeatEmitter) -> ControlResult {
        let n = taps.add(time)
        guard let fit = taps.fit() else { return .pending(taps: n) }
        let tempo = 60 / fit.period
        guard contains(t.tracker.representableTempo, tempo) else { return .rejected(.outsideConfiguredRange) }
        if rangeSource == .operator && !contains(range, tempo) { return .rejected(.outsideRange) }
        if rangeSource != .operator {
            // Taps set the metrical level, as half and double do: kept within half an octave of
            // the tapped tempo until `release`, so the tracker cannot fall back to the octave
            // the operator just corrected.
            let lo = max(tempo / 2.0.squareRoot(), t.tracker.representableTempo.lowerBound)
            let hi = min(tempo * 2.0.squareRoot(), t.tracker.representableTempo.upperBound)
            if t.restrict(lo, hi) {
                rangeSource = .octave
                range = lo...hi
            }
        }
        if isHolding { emitter.hold(beat: fit.beat, period: fit.period) }
        guard seed(fit, &t, emitter) else { return .rejected(.outsideConfiguredRange) }
        emitter.setAnchor(beat: fit.beat, period: fit.period, confidence: 1)
        return .applied
    }

    /// Moves to `factor` × the tempo (½ or 2) now and keeps the tempo within half an octave of
    /// the new one until `release`.
    private func changeLevel(factor: Double, _ t: inout Targets, _ emitter: inout BeatEmitter) -> ControlResult {
        guard let g = currentGrid(emitter) else { return .rejected(.noTempo) }
        let tempo = 60 / g.period * factor
        guard contains(t.tracker.representableTempo, tempo) else { return .rejected(.outsideConfiguredRange) }
        guard t.restrict(tempo / 2.0.squareRoot(), tempo * 2.0.squareRoot()) else {
            return .rejected(.outsideConfiguredRange)
        }
        rangeSource = .octave
        range = (tempo / 2.0.squareRoot())...(tempo * 2.0.squareRoot())
        move(g, factor: factor, &t, &emitter)
        return .applied
    }

    /// Re-seeds at `factor` × the grid's tempo (a power of two), keeping the beats: a slower grid
    /// keeps the beat that falls on a bar line when bars are counted (else the grid's beat).
    private func move(_ g: (beat: Double, period: Double), factor: Double, _ t: inout Targets,
                      _ emitter: inout BeatEmitter) {
        let period = g.period / factor
        var beat = g.beat
        let counted = bars.last != nil && abs(bars.lastBeatTime - g.beat) < g.period / 4
        if factor < 1 {
            let m = Int((1 / factor).rounded())
            if counted, bars.source == .operator, let last = bars.last {
                // The operator said where bar 1 is: bar lines stay bar lines.
                beat -= Double((last.beatInBar - 1) % m) * g.period
            } else {
                beat -= Double(strongerPhase(g, m: m, offset: emitter.beatOffset)) * g.period
            }
        }
        if counted {
            // Bar lines stay bar lines (one step per octave).
            var f = factor
            while f < 0.75 { bars.changeLevel(halving: true); f *= 2 }
            while f > 1.5 { bars.changeLevel(halving: false); f /= 2 }
        }
        if isHolding { emitter.hold(beat: beat, period: period) }
        // Nothing but the new level: the grid is the one the tracker already followed.
        seed((beat, period), &t, emitter, floor: 0)
        emitter.setAnchor(beat: beat, period: period,
                          confidence: max(emitter.anchor.confidence, emitter.config.lockThreshold))
    }

    /// Moves a grid whose tempo lies outside the range in force by octaves into it (the nearest
    /// to the range's centre). False when it was inside, or no octave fits.
    @discardableResult
    private func fold(_ g: (beat: Double, period: Double), _ t: inout Targets, _ emitter: inout BeatEmitter) -> Bool {
        let tempo = 60 / g.period
        guard rangeSource != .configured, !contains(range, tempo) else { return false }
        let centre = (range.lowerBound * range.upperBound).squareRoot()
        var best = 0.0, bestDistance = Double.infinity
        for k in -3...3 where k != 0 {
            let f = pow(2, Double(k))
            let d = abs(log2(tempo * f / centre))
            if contains(range, tempo * f) && d < bestDistance { best = f; bestDistance = d }
        }
        guard best > 0 else { return false }
        move(g, factor: best, &t, &emitter)
        return true
    }

    private func contains(_ r: ClosedRange<Double>, _ x: Double) -> Bool {
        x >= r.lowerBound * (1 - 1e-9) && x <= r.upperBound * (1 + 1e-9)
    }
}
