import Glibc

/// Decides when the main tracker should take over the distribution of a looser second tracker:
/// Page's CUSUM test (Page 1954) on the per-frame log-likelihood ratio of the two trackers'
/// predictions. In steady music the tighter main tracker predicts better and the sum stays near
/// zero; after a tempo step the looser one finds the new tempo first, and its advantage adds up
/// beat after beat until it crosses the threshold. A hand-over also needs the looser tracker to
/// have held its tempo for a while (no jump of more than 5 % from one frame to the next): on
/// music its advantage comes in bursts while its tempo wanders, and a hand-over to a passing
/// tempo is what costs accuracy (measured: bench/RESULTS.md, issue 3).
public struct RelockDetector: Sendable {
    /// Threshold of the cumulative log-likelihood ratio (nats).
    public let threshold: Double
    /// Frames the looser tracker's tempo must have held: no frame-to-frame change above
    /// `holdTolerance`.
    public let holdFrames: Int
    /// Largest relative tempo change between two frames that still counts as holding (neighbouring
    /// tempo states are about 2 % apart at 130 BPM; the wandering on music jumps 20 % and more).
    public static let holdTolerance = 0.05
    /// The current sum, ≥ 0.
    public private(set) var statistic = 0.0
    /// How often the detector fired since the start.
    public private(set) var count = 0
    /// The looser tracker's tempo at the previous frame, and for how many frames it has held.
    private var heldTempo = 0.0
    public private(set) var heldFrames = 0

    public init(threshold: Double, holdFrames: Int = 0) {
        self.threshold = threshold
        self.holdFrames = holdFrames
    }

    /// Adds one frame's log-likelihood ratio (second tracker − main) and the two tempi (BPM); true
    /// when the main tracker should take over the second's distribution: the sum is above the
    /// threshold, the looser tempo has held, and it is a tempo change (`isTempoChange`). The sum
    /// then starts again from zero.
    public mutating func update(logLikelihoodRatio llr: Double, looseTempo: Double, mainTempo: Double) -> Bool {
        if heldTempo > 0 && abs(looseTempo / heldTempo - 1) <= Self.holdTolerance {
            heldFrames += 1
        } else {
            heldFrames = 0
        }
        heldTempo = looseTempo
        statistic = max(0, statistic + llr)
        guard statistic > threshold && heldFrames >= holdFrames
            && Self.isTempoChange(looseTempo, from: mainTempo) else { return false }
        statistic = 0
        count += 1
        return true
    }

    /// Whether the looser tracker's tempo is a tempo change the main tracker cannot follow by
    /// itself: more than 20 % away (smaller drifts and phase corrections the main tracker
    /// follows), and not a metrical level away (a ratio of 2 or 1/2 within 6 %: a change of
    /// counting, not of tempo; the looser tracker's likelihood tends to favour the faster level
    /// wherever the activation shows off-beat peaks, such as eighth-note hi-hats).
    public static func isTempoChange(_ tempo: Double, from current: Double) -> Bool {
        let r = tempo / current
        return abs(log(r)) > log(1.2) && abs(r / 2 - 1) >= 0.06 && abs(r * 2 - 1) >= 0.06
    }

    public mutating func reset() {
        statistic = 0
        count = 0
        heldTempo = 0
        heldFrames = 0
    }
}
