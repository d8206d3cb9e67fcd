import Foundation

/// Decides whether the input carries music worth tracking: within the last `gateHold` seconds the
/// level of some hop must have reached its threshold, and the activation must have risen above
/// its threshold at least `gateOnsets` times. Closed in silence and in steady
/// noise, where the tracker is told the frame carries no evidence and no beat leaves.
public final class SignalGate {
    public let config: EmissionConfig
    private let holdFrames: Int
    /// Frames of the last `gateOnsets` rising crossings of the activation threshold (a ring): a
    /// stray spike in noise must not open the gate, music has onsets again and again.
    private let crossings: UnsafeMutablePointer<Int>
    private let onsets: Int
    private var crossingIndex = 0
    private var frame = 0
    private var above = false
    private var framesSinceLoud: Int
    public private(set) var isOpen = false
    /// Level of the newest hop (dBFS).
    public private(set) var level: Double = -.infinity
    /// Input novelty of the newest frame: spectral flux over its causal 1 s running mean (0 in the
    /// first second, while that mean settles).
    public private(set) var novelty: Double = 0
    private var fluxMean: Double = 0
    private let fluxAlpha: Double
    private let noveltyHold: Int
    private let warmUpFrames: Int
    /// How long one sharp change of the input keeps the novelty condition met (s): chosen on
    /// all 44 annotated files (8 s: −1.0 F with the networks, −0.6 with the onset fallback,
    /// against no novelty condition; 4 s: −1.3 / −0.6).
    static let noveltyHoldSeconds = 8.0
    /// Frames since the last and the one-before-last rising crossing of `gateContrast` by the
    /// novelty: two within the hold are wanted (one can be chance in loud noise).
    private var noveltyFrames = 0
    private var previousNoveltyFrames = 0
    private var wasNovel = false
    /// Frames the gate stays shut because the input was repaired (NaN, Inf, beyond ±64): a
    /// broken source is not trusted until it has been clean for `gateHold`.
    private var distrustFrames = 0
    /// Running means below this (flux units: summed positive log-magnitude differences) count as
    /// this, so that near-constant input has no novelty.
    static let fluxFloor: Double = 0.5

    public init(config: EmissionConfig, frameRate: Double) {
        self.config = config
        holdFrames = max(1, Int((config.gateHold * frameRate).rounded()))
        onsets = max(1, config.gateOnsets)
        crossings = .allocate(capacity: onsets)
        crossings.initialize(repeating: Int.min / 2, count: onsets)
        framesSinceLoud = holdFrames
        fluxAlpha = 1 / frameRate
        noveltyHold = Int((Self.noveltyHoldSeconds * frameRate).rounded())
        warmUpFrames = Int(frameRate.rounded())
        noveltyFrames = Int.max / 2
        previousNoveltyFrames = Int.max / 2
    }

    deinit { crossings.deallocate() }

    public func reset() {
        crossings.update(repeating: Int.min / 2, count: onsets)
        crossingIndex = 0
        frame = 0
        above = false
        framesSinceLoud = holdFrames
        isOpen = false
        level = -.infinity
        novelty = 0
        fluxMean = 0
        noveltyFrames = Int.max / 2
        previousNoveltyFrames = Int.max / 2
        wasNovel = false
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
        let isNovel = novelty >= config.gateContrast
        if isNovel && !wasNovel {
            previousNoveltyFrames = noveltyFrames
            noveltyFrames = 0
        }
        wasNovel = isNovel
        noveltyFrames += 1
        previousNoveltyFrames += 1
        let isAbove = activation.isFinite && Double(activation) >= config.gateActivation
        if isAbove && !above {
            crossings[crossingIndex] = frame
            crossingIndex = (crossingIndex + 1) % onsets
        }
        above = isAbove
        // The oldest of the last `gateOnsets` crossings must lie within the hold.
        let recentOnsets = frame - crossings[crossingIndex] < holdFrames
        frame += 1
        if level >= config.gateLevel {
            framesSinceLoud = 0
        } else if framesSinceLoud < holdFrames {
            framesSinceLoud += 1
        }
        // A threshold of 0 asks nothing of the activation.
        // ... and the input itself must have changed sharply at least once within the hold.
        let novel = config.gateContrast <= 0 || previousNoveltyFrames < noveltyHold
        let active = (config.gateActivation <= 0 || recentOnsets) && novel
        if distrustFrames > 0 { distrustFrames -= 1 }
        isOpen = framesSinceLoud < holdFrames && active && distrustFrames == 0
        return isOpen
    }
}
