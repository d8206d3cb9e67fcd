import Glibc

/// Decides when the main tracker should take over the distribution of a looser second tracker:
/// Page's CUSUM test (Page 1954) on the per-frame log-likelihood ratio of the two trackers'
/// predictions. In steady music the tighter main tracker predicts better and the sum stays near
/// zero; after a tempo step the looser one finds the new tempo first, and its advantage adds up
/// beat after beat until it crosses the threshold.
public struct RelockDetector: Sendable {
    /// Threshold of the cumulative log-likelihood ratio (nats).
    public let threshold: Double
    /// The current sum, ≥ 0.
    public private(set) var statistic = 0.0
    /// How often the detector fired since the start.
    public private(set) var count = 0

    public init(threshold: Double) {
        self.threshold = threshold
    }

    /// Adds one frame's log-likelihood ratio (second tracker − main); true when the main tracker
    /// should take over the second's distribution (the sum then starts again from zero).
    public mutating func update(logLikelihoodRatio llr: Double) -> Bool {
        statistic = max(0, statistic + llr)
        guard statistic > threshold else { return false }
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
    }
}
