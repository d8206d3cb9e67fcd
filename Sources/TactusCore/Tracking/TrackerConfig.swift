/// Parameters of the forward DBN. Defaults are madmom's `DBNBeatTrackingProcessor(online=True)`.
public struct TrackerConfig: Sendable, Equatable {
    /// Slowest tempo (BPM).
    public var minBPM: Double = 55
    /// Fastest tempo (BPM).
    public var maxBPM: Double = 215
    /// Number of tempo states; 0 = one per integer beat interval (madmom's default).
    public var tempoCount: Int = 0
    /// Tempo change penalty λ: larger keeps the tempo steadier.
    public var transitionLambda: Double = 100
    /// Beat region of the state space is the first 1/λ of each beat.
    public var observationLambda: Double = 16

    public init() {}
}
