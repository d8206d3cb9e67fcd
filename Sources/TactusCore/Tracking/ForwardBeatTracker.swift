import Glibc

/// What the tracker concluded for one frame.
public struct TrackerStep: Sendable, Equatable {
    /// Frame index (the stream clock in frames).
    public var frame: Int
    /// Most probable state after this frame's observation.
    public var state: Int
    /// Tempo of that state (BPM).
    public var tempo: Double
    /// Position inside the beat of that state, 0 ..< 1.
    public var phase: Double
    /// True when this frame is reported as a beat (madmom's rule).
    public var isBeat: Bool
    /// Beat interval of the most probable state (frames).
    public var interval: Int = 0
    /// Frames since the last beat, sub-frame: the posterior mean of the position around the most
    /// probable state in its tempo chain (0 at the beat, slightly negative just before it).
    public var phaseFrames: Double = 0
    /// Posterior mass within ±4 % of the tempo and ±3 frames of the phase of the most probable
    /// state, in [0, 1]: how sure the tracker is of "this tempo, this phase".
    public var confidence: Double = 0
    /// Beat interval (frames, fractional): the mean over that same neighbourhood, finer than the
    /// integer intervals of the state space.
    public var meanInterval: Double = 0
}

/// Online beat tracking with the forward algorithm over the bar-pointer beat state space
/// (Krebs, Böck & Widmer 2015), frame by frame, never looking back: madmom's
/// `DBNBeatTrackingProcessor.process_online`. The filtered distribution is normalised every frame;
/// a frame is a beat when the most probable state lies in the beat region and at least
/// 60/max_bpm seconds have passed since the last reported beat.
public final class ForwardBeatTracker {
    public let config: TrackerConfig
    public let frameRate: Double
    public let stateSpace: BeatStateSpace
    public let transitions: BeatTransitionModel

    private let stateCount: Int
    private let tempoCount: Int
    private let first: UnsafeMutablePointer<Int>
    private let last: UnsafeMutablePointer<Int>
    private let length: UnsafeMutablePointer<Int>
    /// States of each chain that lie in the beat region (position < 1/observation λ).
    private let beatStates: UnsafeMutablePointer<Int>
    /// Tempo transitions as a dense matrix by destination, `probability[to·tempoCount + from]`,
    /// zero where no transition exists, and for each group of four destinations the range of
    /// source tempi any of them can come from.
    private let probability: UnsafeMutablePointer<Double>
    private let groupFrom: UnsafeMutablePointer<Int>
    private let groupTo: UnsafeMutablePointer<Int>
    /// Probability of the last state of every tempo chain at the previous frame.
    private let lastValues: UnsafeMutablePointer<Double>
    /// Tempo prior applied at every beat boundary (nil: none, madmom's model).
    private let tempoWeights: UnsafeMutablePointer<Double>?
    /// Initial distribution over states.
    private let initial: UnsafeMutablePointer<Double>
    /// Share of the start distribution mixed in every frame (0: madmom).
    private let resetWeight: Double
    private var previous: UnsafeMutablePointer<Double>
    private var current: UnsafeMutablePointer<Double>
    /// Run-time tempo restriction (issue 20, `restrictTempo`): 1 for a tempo inside the allowed
    /// range, 0 outside; only read while `isRestricted`.
    private let tempoMask: UnsafeMutablePointer<Double>
    /// Mass of the start distribution inside the mask (its restart is `initial·mask / this`).
    private var maskedInitialMass = 1.0
    /// Whether a tempo restriction is in force.
    public private(set) var isRestricted = false
    /// The allowed tempo range while restricted (BPM).
    public private(set) var allowedTempo: ClosedRange<Double>

    private var frameIndex = 0
    private var lastBeat: Double
    public private(set) var beatCount = 0
    /// log p(activation of the last frame | all before), up to a constant shared by every tracker
    /// with the same observation model: how well this tracker predicted the frame (0 for a frame
    /// that carried no evidence).
    public private(set) var logEvidence = 0.0

    public init(config: TrackerConfig, frameRate: Double) {
        self.config = config
        self.frameRate = frameRate
        resetWeight = config.resetRate / frameRate
        // madmom starts its "last beat" at 0 s, which drops any beat in the first 60/max_bpm s.
        lastBeat = config.dropEarlyBeats ? 0 : -.infinity
        stateSpace = BeatStateSpace(minInterval: 60 * frameRate / config.maxBPM,
                                    maxInterval: 60 * frameRate / config.minBPM,
                                    intervalCount: config.tempoCount > 0 ? config.tempoCount : nil)
        transitions = BeatTransitionModel(stateSpace: stateSpace, lambda: config.transitionLambda)
        stateCount = stateSpace.stateCount
        tempoCount = stateSpace.intervals.count
        first = .allocate(capacity: tempoCount)
        last = .allocate(capacity: tempoCount)
        length = .allocate(capacity: tempoCount)
        beatStates = .allocate(capacity: tempoCount)
        let border = 1 / config.observationLambda
        for t in 0..<tempoCount {
            first[t] = stateSpace.firstStates[t]
            last[t] = stateSpace.lastStates[t]
            length[t] = stateSpace.intervals[t]
            var n = 0
            while n < length[t] && stateSpace.positions[first[t] + n] < border { n += 1 }
            beatStates[t] = n
        }
        let groups = (tempoCount + 3) / 4
        probability = .allocate(capacity: 4 * groups * tempoCount)
        probability.initialize(repeating: 0, count: 4 * groups * tempoCount)
        groupFrom = .allocate(capacity: groups)
        groupTo = .allocate(capacity: groups)
        groupFrom.initialize(repeating: tempoCount, count: groups)
        groupTo.initialize(repeating: 0, count: groups)
        for to in 0..<tempoCount {
            for (k, from) in transitions.tempoFrom[to].enumerated() {
                probability[to * tempoCount + from] = transitions.tempoProbability[to][k]
                groupFrom[to / 4] = min(groupFrom[to / 4], from)
                groupTo[to / 4] = max(groupTo[to / 4], from + 1)
            }
        }
        lastValues = .allocate(capacity: tempoCount)
        lastValues.initialize(repeating: 0, count: tempoCount)
        if config.priorBPM > 0 {
            let w = UnsafeMutablePointer<Double>.allocate(capacity: tempoCount)
            for t in 0..<tempoCount {
                w[t] = Self.logNormalWeight(bpm: 60 * frameRate / Double(stateSpace.intervals[t]),
                                            centre: config.priorBPM, octaves: config.priorWidth)
            }
            tempoWeights = w
        } else {
            tempoWeights = nil
        }
        // The start: uniform (madmom) or weighted towards a typical tempo, so the first beats
        // come from plausible tempi (the phase stays uniform: nothing is known about it).
        initial = .allocate(capacity: stateCount)
        var total = 0.0
        for t in 0..<tempoCount {
            let bpm = 60 * frameRate / Double(stateSpace.intervals[t])
            var w = config.startBPM > 0
                ? Self.logNormalWeight(bpm: bpm, centre: config.startBPM, octaves: config.startWidth) : 1
            if let tw = tempoWeights { w *= tw[t] }
            for s in first[t]..<(first[t] + length[t]) { initial[s] = w }
            total += w * Double(length[t])
        }
        for s in 0..<stateCount { initial[s] /= total }
        previous = .allocate(capacity: stateCount)
        current = .allocate(capacity: stateCount)
        previous.initialize(from: initial, count: stateCount)
        current.initialize(repeating: 0, count: stateCount)
        tempoMask = .allocate(capacity: tempoCount)
        tempoMask.initialize(repeating: 1, count: tempoCount)
        allowedTempo = config.minBPM...config.maxBPM
    }

    /// exp(−½·(log2(bpm/centre)/octaves)²): a Gaussian on the octave scale.
    static func logNormalWeight(bpm: Double, centre: Double, octaves: Double) -> Double {
        let d = log2(bpm / centre) / octaves
        return exp(-0.5 * d * d)
    }

    deinit {
        first.deallocate(); last.deallocate(); length.deallocate(); beatStates.deallocate()
        probability.deallocate(); groupFrom.deallocate(); groupTo.deallocate(); lastValues.deallocate()
        previous.deallocate(); current.deallocate(); initial.deallocate(); tempoWeights?.deallocate()
        tempoMask.deallocate()
    }

    /// Index of the first largest value (numpy's argmax), in four interleaved lanes so that the
    /// comparisons do not form one long dependency chain.
    static func firstArgmax(_ v: UnsafePointer<Double>, _ count: Int) -> Int {
        var value = (-Double.infinity, -Double.infinity, -Double.infinity, -Double.infinity)
        var index = (0, 1, 2, 3)
        var i = 0
        while i + 4 <= count {
            if v[i] > value.0 { value.0 = v[i]; index.0 = i }
            if v[i + 1] > value.1 { value.1 = v[i + 1]; index.1 = i + 1 }
            if v[i + 2] > value.2 { value.2 = v[i + 2]; index.2 = i + 2 }
            if v[i + 3] > value.3 { value.3 = v[i + 3]; index.3 = i + 3 }
            i += 4
        }
        while i < count {
            if v[i] > value.0 || (v[i] == value.0 && i < index.0) { value.0 = v[i]; index.0 = i }
            i += 1
        }
        // Each lane holds its first maximum; the overall first is the smallest index among equals.
        var best = index.0, bestValue = value.0
        if value.1 > bestValue || (value.1 == bestValue && index.1 < best) { best = index.1; bestValue = value.1 }
        if value.2 > bestValue || (value.2 == bestValue && index.2 < best) { best = index.2; bestValue = value.2 }
        if value.3 > bestValue || (value.3 == bestValue && index.3 < best) { best = index.3 }
        return best
    }

    /// Back to the start distribution (within the tempo restriction, which a reset keeps).
    public func reset() {
        restart(previous)
        logEvidence = 0
        frameIndex = 0
        lastBeat = config.dropEarlyBeats ? 0 : -.infinity
        beatCount = 0
    }

    /// Takes over another tracker's filtered distribution (same state space: same tempo range
    /// and tempo count); its beat count and last beat stay this tracker's own. No allocation.
    public func adopt(_ other: ForwardBeatTracker) {
        precondition(other.stateCount == stateCount, "adopt needs the same state space")
        previous.update(from: other.previous, count: stateCount)
        if isRestricted { applyMask() }
    }

    /// The filtered state distribution after the last frame (valid until the next call).
    public var distribution: UnsafeBufferPointer<Double> { UnsafeBufferPointer(start: previous, count: stateCount) }

    /// Feeds one frame's beat activation. `informative: false` (silence, noise) makes the frame
    /// carry no evidence: the distribution only moves on, tempo and phase are held while the
    /// spread of the tempo transitions lowers the confidence.
    public func process(activation rawActivation: Float, informative: Bool = true) -> TrackerStep {
        // A broken source may deliver NaN; treat it as "no beat evidence".
        let activation = rawActivation.isNaN ? 0 : Double(min(max(rawActivation, 0), 1))
        // Densities as madmom computes them: exp(log(·)).
        let beatDensity = informative ? exp(log(activation)) : 1
        let otherDensity = informative ? exp(log((1 - activation) / (config.observationLambda - 1))) : 1
        let prev = previous, cur = current
        // Entering a tempo chain: sum over the last states of all chains it can be reached from.
        // Four destinations at a time, each summed in ascending source order as madmom does; the
        // zero entries padding a group's range add exact zeros, so the sums are unchanged.
        for t in 0..<tempoCount { lastValues[t] = prev[last[t]] }
        var to = 0
        while to < tempoCount {
            let g = to / 4
            let p0 = probability + to * tempoCount
            var a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0
            if to + 4 <= tempoCount {
                let p1 = p0 + tempoCount, p2 = p1 + tempoCount, p3 = p2 + tempoCount
                for from in groupFrom[g]..<max(groupFrom[g], groupTo[g]) {
                    let v = lastValues[from]
                    a0 += v * p0[from]; a1 += v * p1[from]; a2 += v * p2[from]; a3 += v * p3[from]
                }
                cur[first[to]] = a0; cur[first[to + 1]] = a1; cur[first[to + 2]] = a2; cur[first[to + 3]] = a3
                to += 4
            } else {
                for from in groupFrom[g]..<max(groupFrom[g], groupTo[g]) { a0 += lastValues[from] * p0[from] }
                cur[first[to]] = a0
                to += 1
            }
        }
        if let tw = tempoWeights {
            for t in 0..<tempoCount { cur[first[t]] *= tw[t] }
        }
        if isRestricted {
            // No entry into a tempo outside the allowed range.
            for t in 0..<tempoCount { cur[first[t]] *= tempoMask[t] }
        }
        for t in 0..<tempoCount {
            let s0 = first[t]
            cur[s0] *= beatStates[t] > 0 ? beatDensity : otherDensity
            let beatEnd = s0 + beatStates[t], end = s0 + length[t]
            var s = s0 + 1
            while s < beatEnd { cur[s] = prev[s - 1] * beatDensity; s += 1 }
            while s < end { cur[s] = prev[s - 1] * otherDensity; s += 1 }
        }
        // Four partial sums break the add latency chain; the order of summation only scales the
        // whole distribution by a factor within rounding, which leaves its argmax alone.
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var i = 0
        while i + 4 <= stateCount {
            s0 += cur[i]; s1 += cur[i + 1]; s2 += cur[i + 2]; s3 += cur[i + 3]
            i += 4
        }
        while i < stateCount { s0 += cur[i]; i += 1 }
        let sum = (s0 + s1) + (s2 + s3)
        let frame = frameIndex
        frameIndex += 1
        logEvidence = informative && sum > 0 ? log(sum) : 0
        guard sum > 0, sum.isFinite else {
            // The observation ruled out every state (e.g. activation exactly 0 or 1 everywhere it
            // was possible): start over from the uniform distribution rather than emit NaN.
            restart(prev)
            return TrackerStep(frame: frame, state: 0, tempo: 60 * frameRate / Double(stateSpace.intervals[0]),
                               phase: 0, isBeat: false, interval: stateSpace.intervals[0])
        }
        if resetWeight > 0 && isRestricted {
            // The same within the allowed tempo range only.
            let keep = (1 - resetWeight) / sum, mix = resetWeight / maskedInitialMass
            for t in 0..<tempoCount {
                let w = mix * tempoMask[t]
                for s in first[t]..<(first[t] + length[t]) { cur[s] = cur[s] * keep + w * initial[s] }
            }
        } else if resetWeight > 0 {
            // Mix in a little of the start distribution: a tempo the transition model would
            // forbid (a jump of more than a third) can still take over when the music says so.
            let keep = (1 - resetWeight) / sum
            for s in 0..<stateCount { cur[s] = cur[s] * keep + resetWeight * initial[s] }
        } else {
            let norm = 1 / sum
            for s in 0..<stateCount { cur[s] *= norm }
        }
        let best = Self.firstArgmax(cur, stateCount)
        swap(&previous, &current)
        let inBeatRegion = stateSpace.positions[best] < 1 / config.observationLambda
        var isBeat = false
        if inBeatRegion && informative {
            let time = Double(frame) / frameRate
            if time >= lastBeat + 60 / config.maxBPM {
                lastBeat = time
                beatCount += 1
                isBeat = true
            }
        }
        let interval = stateSpace.stateIntervals[best]
        let (phaseFrames, confidence, meanInterval) = localSummary(best)
        return TrackerStep(frame: frame, state: best, tempo: 60 * frameRate / Double(interval),
                           phase: stateSpace.positions[best], isBeat: isBeat, interval: interval,
                           phaseFrames: phaseFrames, confidence: confidence, meanInterval: meanInterval)
    }

    // MARK: Run-time control (issue 20): no allocation, the state space stays.

    /// The start distribution into `p`, within the tempo restriction when one is in force.
    private func restart(_ p: UnsafeMutablePointer<Double>) {
        p.update(from: initial, count: stateCount)
        guard isRestricted else { return }
        let norm = 1 / maskedInitialMass
        for t in 0..<tempoCount {
            let w = tempoMask[t] * norm
            for s in first[t]..<(first[t] + length[t]) { p[s] *= w }
        }
    }

    /// Zeroes the mass outside the allowed tempi and renormalises; when (almost) nothing was
    /// inside, starts over from the start distribution within the range.
    private func applyMask() {
        var inside = 0.0
        for t in 0..<tempoCount {
            let w = tempoMask[t]
            for s in first[t]..<(first[t] + length[t]) {
                previous[s] *= w
                inside += previous[s]
            }
        }
        if inside > 1e-12 && inside.isFinite {
            let norm = 1 / inside
            for s in 0..<stateCount { previous[s] *= norm }
        } else {
            restart(previous)
        }
    }

    /// Tempo (BPM) of tempo state `t`.
    private func bpm(_ t: Int) -> Double { 60 * frameRate / Double(length[t]) }

    /// Restricts the tempo to `minBPM ... maxBPM` from the next frame on (and removes the mass
    /// outside it now, renormalising): no tempo state outside is entered again until
    /// `clearTempoRestriction`. False, and nothing changed, when no tempo state of the state space
    /// lies inside. No allocation.
    @discardableResult
    public func restrictTempo(minBPM: Double, maxBPM: Double) -> Bool {
        guard minBPM.isFinite, maxBPM.isFinite, minBPM <= maxBPM else { return false }
        var any = false
        for t in 0..<tempoCount where bpm(t) >= minBPM - 1e-9 && bpm(t) <= maxBPM + 1e-9 { any = true; break }
        guard any else { return false }
        var mass = 0.0
        for t in 0..<tempoCount {
            let b = bpm(t)
            tempoMask[t] = b >= minBPM - 1e-9 && b <= maxBPM + 1e-9 ? 1 : 0
            if tempoMask[t] > 0 { for s in first[t]..<(first[t] + length[t]) { mass += initial[s] } }
        }
        maskedInitialMass = mass > 0 ? mass : 1
        isRestricted = true
        allowedTempo = minBPM...maxBPM
        applyMask()
        return true
    }

    /// Lifts the tempo restriction: every tempo of the state space may be entered again.
    public func clearTempoRestriction() {
        tempoMask.update(repeating: 1, count: tempoCount)
        maskedInitialMass = 1
        isRestricted = false
        allowedTempo = config.minBPM...config.maxBPM
    }

    /// The tempo range the state space can represent (BPM): its slowest and fastest tempo state.
    public var representableTempo: ClosedRange<Double> { bpm(tempoCount - 1)...bpm(0) }

    /// Back to the start distribution (within the tempo restriction), keeping the frame count and
    /// the last beat: re-acquire from the music. No allocation.
    public func reacquire() {
        restart(previous)
    }

    /// Replaces the distribution with one concentrated at the beat interval `interval` (frames,
    /// fractional) and `framesSinceBeat` frames after the last beat, as after the last frame
    /// processed: the tempo states nearest the interval (a Gaussian of `tempoSpread` on the log
    /// interval), in each the position at the same fraction of the beat (a Gaussian of
    /// `phaseSpread` frames, sub-frame), plus `floor` of the start distribution so that the music
    /// can still move it anywhere. Respects the tempo restriction; false, and nothing changed,
    /// when no allowed tempo state lies near the interval. No allocation.
    @discardableResult
    public func seed(interval: Double, framesSinceBeat: Double, tempoSpread: Double = 0.02,
                     phaseSpread: Double = 1, floor: Double = 1e-6) -> Bool {
        guard interval.isFinite, interval > 0, framesSinceBeat.isFinite, tempoSpread > 0, phaseSpread > 0
        else { return false }
        func near(_ t: Int) -> Bool {
            let d = log(Double(length[t]) / interval) / tempoSpread
            return d * d < 36 && (!isRestricted || tempoMask[t] > 0)
        }
        var any = false
        for t in 0..<tempoCount where near(t) { any = true; break }
        guard any else { return false }
        let cycles = framesSinceBeat / interval
        let fraction = cycles - cycles.rounded(.down)
        let p = previous
        p.update(repeating: 0, count: stateCount)
        var total = 0.0
        for t in 0..<tempoCount where near(t) {
            let n = length[t], s0 = first[t]
            let d = log(Double(n) / interval) / tempoSpread
            let w = exp(-0.5 * d * d)
            let centre = fraction * Double(n)
            // Positions within 4 spreads of the centre, wrapped around the chain.
            let reach = Int((4 * phaseSpread).rounded(.up))
            let c = Int(centre.rounded(.down))
            for k in (c - reach)...(c + reach + 1) {
                let e = (Double(k) - centre) / phaseSpread
                let v = w * exp(-0.5 * e * e)
                p[s0 + ((k % n) + n) % n] += v
                total += v
            }
        }
        let keep = (1 - floor) / total
        if floor > 0 {
            restart(current)  // scratch: `current` is rewritten by the next frame
            for s in 0..<stateCount { p[s] = p[s] * keep + floor * current[s] }
        } else {
            for s in 0..<stateCount { p[s] *= keep }
        }
        return true
    }

    /// Sub-frame phase and confidence from the posterior around the most probable state.
    private func localSummary(_ best: Int) -> (Double, Double, Double) {
        let p = previous  // after the swap: this frame's distribution
        var t = 0
        while t + 1 < tempoCount && first[t + 1] <= best { t += 1 }
        let interval = length[t], k = best - first[t]
        // Posterior mean of the position within ±3 states of the argmax, in its own chain.
        var mass = 0.0, moment = 0.0
        for d in -3...3 {
            let kk = ((k + d) % interval + interval) % interval
            let v = p[first[t] + kk]
            mass += v
            moment += v * Double(d)
        }
        // Negative: the posterior puts the beat just ahead of this frame.
        let phaseFrames = Double(k) + (mass > 0 ? moment / mass : 0)
        // Confidence: the same phase (±3 frames) in the chains within ±4 % of the tempo.
        let phase = Double(k) / Double(interval)
        var near = 0.0, weightedInterval = 0.0
        for u in 0..<tempoCount {
            let n = length[u]
            guard abs(Double(n) / Double(interval) - 1) <= 0.04 else { continue }
            let centre = Int((phase * Double(n)).rounded())
            var m = 0.0
            for d in -3...3 {
                m += p[first[u] + ((centre + d) % n + n) % n]
            }
            near += m
            weightedInterval += m * Double(n)
        }
        return (phaseFrames, min(near, 1), near > 0 ? weightedInterval / near : Double(interval))
    }
}
