/// Parameters of the feature stage. Defaults are madmom's online beat features; each key, unit and
/// range is declared once in `ParameterTable`.
public struct FeatureConfig: Sendable, Equatable {
    /// Processing sample rate (Hz); audio is resampled to it.
    public var sampleRate: Double = 44_100
    /// STFT frame length (samples).
    public var frameSize: Int = 2048
    /// Hop between frames (samples); 441 at 44.1 kHz gives 100 frames/s.
    public var hopSize: Int = 441
    /// Logarithmic filterbank bands per octave.
    public var bandsPerOctave: Int = 12
    /// Lowest filterbank frequency (Hz).
    public var minFrequency: Double = 30
    /// Highest filterbank frequency (Hz).
    public var maxFrequency: Double = 17_000
    /// Magnitude compression: log10(mul·x + add).
    public var logMultiplier: Float = 1
    public var logAdd: Float = 1
    /// Window ratio that sets the spectral difference distance (madmom `diff_ratio`).
    public var diffRatio: Double = 0.5

    public init() {}

    /// Frames per second.
    public var frameRate: Double { sampleRate / Double(hopSize) }
}
