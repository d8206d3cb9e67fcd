import Glibc

/// Decides whether the input carries music worth tracking: within the last `gateHold` seconds the
/// level of some hop must have reached its threshold and the activation must have risen above
/// its threshold at least `gateOnsets` times, and within 8 s the input's own spectral flux must
/// have jumped `gateChanges` times (`gateContrast`), or changed more softly more often
/// (`gateSoftContrast`, `gateSoftChanges`); repaired input shuts it for `gateHold`, and
/// `gateSilence` s below `gateLevel` shut it until sound returns. Closed in silence,
/// steady noise and steady tones: no beat leaves. The tracker is told a frame carries no evidence
/// only in silence and after repaired input (`isInformative`): withholding quiet music with weak
/// activations made it drift to double tempo.
public final class SignalGate {
    public private(set) var config: EmissionConfig
    private let frameRate: Double
    private var holdFrames: Int
    /// Frames below `gateLevel` after which no beat leaves (`gateSilence`).
    private var silenceFrames: Int
    /// The last `gateOnsets` rising crossings of the activation threshold: a stray spike in noise
    /// must not open the gate, music has onsets again and again.
    private var onsets: RisingEdges
    private var frame = 0
    private var framesSinceLoud: Int
    public private(set) var isOpen = false
    /// Whether the frame is evidence for the tracker: as `isOpen`, but without the activation
    /// condition. Quiet music with few activation peaks (a solo guitar) keeps the tempo and phase
    /// it has; only silence, steady noise and repaired input are withheld from the tracker.
    public private(set) var isInformative = false
    /// Level of the newest hop (dBFS).
    public private(set) var level: Double = -.infinity
    /// Input novelty of the newest frame: spectral flux over its causal 1 s running mean (0 in the
    /// first second, while that mean settles).
    public private(set) var novelty: Double = 0
    private var fluxMean: Double = 0
    private let fluxAlpha: Double
    private let noveltyHold: Int
    private let warmUpFrames: Int
    /// Within how long the input must have changed sharply twice (s). The novelty condition as a
    /// whole costs F on the 44 annotated files: 0.780 → 0.768 with madmom's networks, 0.729 →
    /// 0.712 with the onset fallback (bench/RESULTS.md, issue 3).
    static let noveltyHoldSeconds = 8.0
    /// The last `gateChanges` rising crossings of `gateContrast` by the novelty (one can be
    /// chance in loud noise).
    private var novelEdges: RisingEdges
    /// The same for the softer, more frequent changes of legato music (`gateSoftContrast`).
    private var softEdges: RisingEdges
    /// Frames the gate stays shut because the input was repaired (NaN, Inf, beyond ±64): a
    /// broken source is not trusted until it has been clean for `gateHold`.
    private var distrustFrames = 0
    /// Running means below this (flux units: summed positive log-magnitude differences) count as
    /// this, so that near-constant input has no novelty.
    static let fluxFloor: Double = 0.5

    public init(config: EmissionConfig, frameRate: Double) {
        self.config = config
        self.frameRate = frameRate
        holdFrames = max(1, Int((config.gateHold * frameRate).rounded()))
        silenceFrames = max(1, Int((config.gateSilence * frameRate).rounded()))
        onsets = RisingEdges(count: config.gateOnsets)
        novelEdges = RisingEdges(count: config.gateChanges)
        softEdges = RisingEdges(count: config.gateSoftChanges)
        framesSinceLoud = holdFrames
        fluxAlpha = 1 / frameRate
        // Less one frame: a crossing counts from its own frame on.
        noveltyHold = Int((Self.noveltyHoldSeconds * frameRate).rounded()) - 1
        warmUpFrames = Int(frameRate.rounded())
    }

    /// Whether `retune(_:)` can take `new` in place: the same numbers of remembered crossings.
    public func canRetune(to new: EmissionConfig) -> Bool {
        new.gateOnsets == config.gateOnsets && new.gateChanges == config.gateChanges
            && new.gateSoftChanges == config.gateSoftChanges
    }

    /// New thresholds and times (a SIGHUP reload), keeping what the gate has heard; allocates
    /// nothing. Requires `canRetune(to:)`.
    public func retune(_ new: EmissionConfig) {
        precondition(canRetune(to: new), "SignalGate.retune: crossing counts differ")
        config = new
        holdFrames = max(1, Int((new.gateHold * frameRate).rounded()))
        silenceFrames = max(1, Int((new.gateSilence * frameRate).rounded()))
    }

    public func reset() {
        onsets.reset()
        frame = 0
        framesSinceLoud = holdFrames
        isOpen = false
        isInformative = false
        level = -.infinity
        novelty = 0
        fluxMean = 0
        novelEdges.reset()
        softEdges.reset()
        distrustFrames = 0
    }

    /// The newest hop held repaired samples: keep the gate shut for `gateHold`.
    public func distrustInput() { distrustFrames = holdFrames }

    /// `hop`: the newest `hop` samples; `flux`: the frame's spectral flux (sum of the positive
    /// log-spectral differences); returns whether the gate is open for this frame.
    public func update(hop: UnsafeBufferPointer<Float>, activation: Float, flux: Float) -> Bool {
        var energy: Double = 0
        for x in hop where x.isFinite { energy += Double(x) * Double(x) }
        level = 10 * log10(max(energy / Double(max(hop.count, 1)), 1e-20))
        let f = flux.isFinite ? Double(flux) : 0
        // The running mean needs a second to settle: the start of a stream is no onset.
        novelty = frame < warmUpFrames ? 0 : f / max(fluxMean, Self.fluxFloor)
        fluxMean += (frame < warmUpFrames ? 1 / Double(frame + 1) : fluxAlpha) * (f - fluxMean)
        let sharp = novelEdges.update(novelty >= config.gateContrast, frame: frame, within: noveltyHold)
        let soft = softEdges.update(novelty >= config.gateSoftContrast, frame: frame, within: noveltyHold)
        let recentlyNovel = sharp || (config.gateSoftContrast > 0 && soft)
        let isAbove = activation.isFinite && Double(activation) >= config.gateActivation
        let recentOnsets = onsets.update(isAbove, frame: frame, within: holdFrames)
        frame += 1
        if level >= config.gateLevel {
            framesSinceLoud = 0
        } else if framesSinceLoud < holdFrames {
            framesSinceLoud += 1
        }
        // A threshold of 0 asks nothing of the activation (or of the input's novelty).
        let novel = config.gateContrast <= 0 || recentlyNovel
        if distrustFrames > 0 { distrustFrames -= 1 }
        isInformative = framesSinceLoud < holdFrames && distrustFrames == 0
        isOpen = isInformative && framesSinceLoud < silenceFrames && novel
            && (config.gateActivation <= 0 || recentOnsets)
        return isOpen
    }
}

/// The frames of the last `count` rising edges of a condition, for "it rose `count` times within
/// a window". Preallocated; updating it never allocates.
struct RisingEdges {
    private var frames: [Int]
    private var oldest = 0
    private var high = false

    init(count: Int) { frames = Array(repeating: Int.min / 2, count: max(1, count)) }

    mutating func reset() {
        for i in frames.indices { frames[i] = Int.min / 2 }
        oldest = 0
        high = false
    }

    /// Records the condition at `frame`; true when the oldest of the last `count` rises lies
    /// less than `within` frames before it.
    mutating func update(_ isHigh: Bool, frame: Int, within: Int) -> Bool {
        if isHigh && !high {
            frames[oldest] = frame
            oldest = (oldest + 1) % frames.count
        }
        high = isHigh
        return frame - frames[oldest] < within
    }
}
