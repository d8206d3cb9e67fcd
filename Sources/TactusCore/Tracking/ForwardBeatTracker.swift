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
    private let length: UnsafeMutablePointer<Int>
    /// States of each chain that lie in the beat region (position < 1/observation λ).
    private let beatStates: UnsafeMutablePointer<Int>
    private let fromOffsets: UnsafeMutablePointer<Int>       // tempoCount + 1
    private let fromLastState: UnsafeMutablePointer<Int>
    private let fromProbability: UnsafeMutablePointer<Double>
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
        length = .allocate(capacity: tempoCount)
        beatStates = .allocate(capacity: tempoCount)
        let border = 1 / config.observationLambda
        for t in 0..<tempoCount {
            first[t] = stateSpace.firstStates[t]
            length[t] = stateSpace.intervals[t]
            var n = 0
            while n < length[t] && stateSpace.positions[first[t] + n] < border { n += 1 }
            beatStates[t] = n
        }
        let total = transitions.tempoFrom.reduce(0) { $0 + $1.count }
        fromOffsets = .allocate(capacity: tempoCount + 1)
        fromLastState = .allocate(capacity: max(total, 1))
        fromProbability = .allocate(capacity: max(total, 1))
        var k = 0
        for t in 0..<tempoCount {
            fromOffsets[t] = k
            for (i, from) in transitions.tempoFrom[t].enumerated() {
                fromLastState[k] = stateSpace.lastStates[from]
                fromProbability[k] = transitions.tempoProbability[t][i]
                k += 1
            }
        }
        fromOffsets[tempoCount] = k
        previous = .allocate(capacity: stateCount)
        current = .allocate(capacity: stateCount)
        previous.initialize(repeating: 1 / Double(stateCount), count: stateCount)
        current.initialize(repeating: 0, count: stateCount)
    }

    deinit {
        first.deallocate(); length.deallocate(); beatStates.deallocate()
        fromOffsets.deallocate(); fromLastState.deallocate(); fromProbability.deallocate()
        previous.deallocate(); current.deallocate()
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
        var sum = 0.0
        for t in 0..<tempoCount {
            let s0 = first[t]
            var p = 0.0
            for k in fromOffsets[t]..<fromOffsets[t + 1] { p += prev[fromLastState[k]] * fromProbability[k] }
            cur[s0] = p * (beatStates[t] > 0 ? beatDensity : otherDensity)
            sum += cur[s0]
            let beatEnd = s0 + beatStates[t], end = s0 + length[t]
            var s = s0 + 1
            while s < beatEnd { cur[s] = prev[s - 1] * beatDensity; sum += cur[s]; s += 1 }
            while s < end { cur[s] = prev[s - 1] * otherDensity; sum += cur[s]; s += 1 }
        }
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
        var best = 0
        var bestValue = -1.0
        for s in 0..<stateCount {
            let v = cur[s] * norm
            cur[s] = v
            if v > bestValue { bestValue = v; best = s }
        }
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
