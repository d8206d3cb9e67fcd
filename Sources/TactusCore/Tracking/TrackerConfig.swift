/// Parameters of the forward DBN. Defaults of the model are madmom's
/// `DBNBeatTrackingProcessor(online=True)`; the start prior is Tactus's (reactive mode ignores it).
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
    /// Preferred tempo (BPM) of a prior applied at every beat boundary; 0 = none (madmom).
    public var priorBPM: Double = 0
    /// Width of that prior (octaves, one standard deviation).
    public var priorWidth: Double = 1
    /// Centre of the initial tempo distribution (BPM); 0 = uniform (madmom).
    public var startBPM: Double = 120
    /// Width of the initial tempo distribution (octaves).
    public var startWidth: Double = 1
    /// Share of the start distribution mixed into the posterior per second, so that tempo jumps
    /// beyond what the transition model allows are found again (0 = none, madmom).
    public var resetRate: Double = 0
    /// Re-lock after a tempo change (predictive mode): a second tracker with a looser tempo
    /// transition runs beside the main one; when the evidence that it predicts the activations
    /// better (a CUSUM of their log-likelihood ratio, nats) exceeds this, the main tracker takes
    /// its distribution. 0 = off.
    public var relockThreshold: Double = 0
    /// How long (s) the second tracker's tempo must have held, changing by at most 5 % from one
    /// frame to the next, before it is handed over.
    public var relockHold: Double = 0.3
    /// Tempo change penalty λ of that second tracker.
    public var relockLambda: Double = 10
    /// Its reset rate (share of the start distribution mixed in per second).
    public var relockResetRate: Double = 0.1
    /// madmom's rule: no beat before 60/max_bpm s after the start (its first "last beat" is 0 s).
    public var dropEarlyBeats: Bool = true

    public init() {}
}
