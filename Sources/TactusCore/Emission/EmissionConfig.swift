/// How beats leave the core. Keys, units and ranges are in `ParameterTable`.
public struct EmissionConfig: Sendable, Equatable {
    public enum Mode: String, Sendable, CaseIterable {
        /// madmom's `process_online` exactly: a beat when the most probable state enters the beat
        /// region, stamped with that frame's time; uniform start, no gate.
        case reactive
        /// Beats predicted from the tempo/phase posterior and sent `lead` seconds early once
        /// locked; before lock, reactive beats with sub-frame times. Silence/noise gate.
        case predictive
    }

    public var mode: Mode = .predictive
    /// How early a predicted beat leaves (s).
    public var lead: Double = 0.05
    /// Confidence above which the tracker counts as locked and beats are predicted.
    public var lockThreshold: Double = 0.3
    /// Added to every predictive-mode beat time (s), on top of the activation's own calibration
    /// (the model file's `beat_offset`, or `OnsetConfig.beatOffset`): a trim for the user's setup.
    public var offset: Double = 0
    /// Frames quieter than this (dBFS, RMS over one hop) close the gate.
    public var gateLevel: Double = -60
    /// The gate also closes unless the network activation rose above this `gateOnsets` times within
    /// `gateHold` s (the onset fallback has its own threshold, `OnsetConfig.gateActivation`). Default
    /// from the train split with madmom's networks: 0.08 × 3 costs 0.6 F against no gate, while
    /// −40 dBFS pink noise (peaks up to 0.15, crossing 0.08 14 times a minute) gives no beats.
    public var gateActivation: Double = 0.08
    /// The gate also closes unless, within 8 s, the input's spectral flux rose to this multiple
    /// of its 1 s running mean at least `gateChanges` times, or to `gateSoftContrast` at least
    /// `gateSoftChanges` times (0 = off). Steady noise and steady tones stay near their mean
    /// (full-scale white noise never reaches 2.5× and rises to 2× about once a minute, −20 dBFS
    /// pink noise 5 times); music has sharp onsets, or, if soft and legato, many smaller changes
    /// (a piece of the train split: 2× 50 times a minute). A network can oscillate on steady
    /// input; the input's flux does not.
    public var gateContrast: Double = 2.5
    /// How many rises to `gateContrast` within 8 s.
    public var gateChanges: Int = 2
    /// The softer alternative (0 = none): 2.0 × 4 lifts the train split from F 0.768 to 0.784
    /// (0.786 without any novelty condition) and keeps 10 h of hostile input beat-free.
    public var gateSoftContrast: Double = 2.0
    /// How many rises to `gateSoftContrast` within 8 s.
    public var gateSoftChanges: Int = 4
    /// How long an activation peak keeps the gate open (s).
    public var gateHold: Double = 2
    /// The gate also closes once every hop of this long (s) was quieter than `gateLevel`: when a
    /// song stops dead, no beat leaves into the silence after it. The tracker keeps listening
    /// until `gateHold`, so a short stop in the music keeps its tempo and phase.
    public var gateSilence: Double = 0.3
    /// Onsets (rising crossings of `gateActivation`) needed within `gateHold` to open the gate.
    public var gateOnsets: Int = 3

    public init() {}
}
