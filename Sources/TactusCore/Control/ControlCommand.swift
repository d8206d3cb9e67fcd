/// An operator's command to the running tracker (issue 20; DESIGN.md, "The control path"): data,
/// so that the core can replay commands in tests and a lock-free queue can carry them. Each is
/// applied at a hop boundary by `BeatPipeline.control(_:at:)` with its arrival time on the stream
/// clock, and answers with a `ControlResult`.
public enum ControlCommand: Sendable, Equatable, BitwiseCopyable {
    /// A tap on the beat (its time is the command's time). From the third tap on, a tap less than
    /// `TapTempo.restartGap` after the previous one sets tempo (median interval) and phase, and
    /// the tracker is re-seeded there; then it follows the music again, within half an octave of
    /// the tapped tempo until `release` (inside an operator's `range`, which stays).
    case tap
    /// Moves to half the tempo now and keeps the tempo within half an octave of it until
    /// `release`. The beats that stay are beats 1 and 3 of the bar once the operator gave a
    /// `downbeat`; else those of the two series the network heard stronger over the last 4 s.
    case half
    /// Moves to double the tempo now, keeping the beats, and keeps the tempo within half an
    /// octave of it until `release`.
    case double
    /// Shifts every beat from now on by this many milliseconds (positive: later).
    case nudge(milliseconds: Double)
    /// Restricts the tempo to `minBPM ... maxBPM` (inside the configured range) until
    /// `fullRange` or `reset`; a tempo outside moves by octaves into it when one fits.
    case range(minBPM: Double, maxBPM: Double)
    /// Restores the configured tempo range (`range` without arguments).
    case fullRange
    /// Freewheels: beats continue at the current tempo and phase, ignoring the audio.
    case hold
    /// Ends a hold (the tracker follows the music again from the held tempo and phase) and a
    /// tempo range set by `half`, `double` or taps; an operator's `range` stays.
    case release
    /// The next beat, or the nearest within a quarter beat, is beat 1 of a bar (and of a phrase).
    case downbeat
    /// Beats per bar (1 ... `BarCounter.maxMeter`).
    case meter(Int)
    /// Bars per phrase (1 ... `BarCounter.maxPhrase`).
    case phrase(Int)
    /// Clears everything the operator set and re-acquires tempo and phase from the music.
    case reset

    /// The command's name as the operator types it.
    public var name: String {
        switch self {
        case .tap: "tap"
        case .half: "half"
        case .double: "double"
        case .nudge: "nudge"
        case .range, .fullRange: "range"
        case .hold: "hold"
        case .release: "release"
        case .downbeat: "downbeat"
        case .meter: "meter"
        case .phrase: "phrase"
        case .reset: "reset"
        }
    }
}

/// What became of a command (sent back as a notice on the event stream by the daemon).
public enum ControlResult: Sendable, Equatable, BitwiseCopyable {
    case applied
    /// A tap was recorded; this many taps so far, `TapTempo.minimumTaps` are needed.
    case pending(taps: Int)
    case rejected(ControlRejection)
}

/// Why a command was rejected.
public enum ControlRejection: Sendable, Equatable, BitwiseCopyable, CustomStringConvertible {
    /// An argument is not a finite number in the command's range.
    case invalidArgument
    /// The tempo asked for lies outside the configured tracker range (tracker.min_bpm ... max_bpm).
    case outsideConfiguredRange
    /// The tempo asked for (a tap fit) lies outside the operator's `range`.
    case outsideRange
    /// No tempo and phase to act on yet (nothing locked, nothing found).
    case noTempo

    public var description: String {
        switch self {
        case .invalidArgument: "invalid argument"
        case .outsideConfiguredRange: "tempo outside the configured tracker range"
        case .outsideRange: "tempo outside the range set by the operator"
        case .noTempo: "no tempo and phase yet"
        }
    }
}
