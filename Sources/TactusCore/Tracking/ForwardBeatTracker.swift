import Foundation

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
    /// True when this frame is reported as a beat.
    public var isBeat: Bool
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
    private var previous: UnsafeMutablePointer<Double>
    private var current: UnsafeMutablePointer<Double>

    private var frameIndex = 0
    private var lastBeat = 0.0
    public private(set) var beatCount = 0

    public init(config: TrackerConfig, frameRate: Double) {
        self.config = config
        self.frameRate = frameRate
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
        previous = .allocate(capacity: stateCount)
        current = .allocate(capacity: stateCount)
        previous.initialize(repeating: 1 / Double(stateCount), count: stateCount)
        current.initialize(repeating: 0, count: stateCount)
    }

    deinit {
        first.deallocate(); last.deallocate(); length.deallocate(); beatStates.deallocate()
        probability.deallocate(); groupFrom.deallocate(); groupTo.deallocate(); lastValues.deallocate()
        previous.deallocate(); current.deallocate()
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

    public func reset() {
        previous.update(repeating: 1 / Double(stateCount), count: stateCount)
        frameIndex = 0
        lastBeat = 0
        beatCount = 0
    }

    /// The filtered state distribution after the last frame (valid until the next call).
    public var distribution: UnsafeBufferPointer<Double> { UnsafeBufferPointer(start: previous, count: stateCount) }

    /// Feeds one frame's beat activation.
    public func process(activation rawActivation: Float) -> TrackerStep {
        // A broken source may deliver NaN; treat it as "no beat evidence".
        let activation = rawActivation.isNaN ? 0 : Double(min(max(rawActivation, 0), 1))
        // Densities as madmom computes them: exp(log(·)).
        let beatDensity = exp(log(activation))
        let otherDensity = exp(log((1 - activation) / (config.observationLambda - 1)))
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
        guard sum > 0, sum.isFinite else {
            // The observation ruled out every state (e.g. activation exactly 0 or 1 everywhere it
            // was possible): start over from the uniform distribution rather than emit NaN.
            prev.update(repeating: 1 / Double(stateCount), count: stateCount)
            return TrackerStep(frame: frame, state: 0, tempo: 60 * frameRate / Double(stateSpace.intervals[0]),
                               phase: 0, isBeat: false)
        }
        let norm = 1 / sum
        for s in 0..<stateCount { cur[s] *= norm }
        let best = Self.firstArgmax(cur, stateCount)
        swap(&previous, &current)
        let inBeatRegion = stateSpace.positions[best] < 1 / config.observationLambda
        var isBeat = false
        if inBeatRegion {
            let time = Double(frame) / frameRate
            if time >= lastBeat + 60 / config.maxBPM {
                lastBeat = time
                beatCount += 1
                isBeat = true
            }
        }
        let interval = stateSpace.stateIntervals[best]
        return TrackerStep(frame: frame, state: best, tempo: 60 * frameRate / Double(interval),
                           phase: stateSpace.positions[best], isBeat: isBeat)
    }
}
