/// A beat as it leaves the core (DESIGN.md's event schema): when it sounds and when it was sent,
/// both on the stream clock.
public struct BeatEvent: Sendable, Equatable, BitwiseCopyable {
    /// When the beat sounds (s, stream clock, sub-frame).
    public var beatTime: Double
    /// When the event was made: the stream time of the last sample consumed (s).
    public var emissionTime: Double
    /// Tempo at the beat (BPM).
    public var tempo: Double
    /// Tracker confidence at emission, in [0, 1].
    public var confidence: Double
    /// Running beat count, from 1.
    public var count: Int
    /// True when sent ahead of the beat from the tempo/phase posterior; false when reported after
    /// the tracker saw it (before lock, or in reactive mode).
    public var predicted: Bool

    public init(beatTime: Double, emissionTime: Double, tempo: Double, confidence: Double, count: Int,
                predicted: Bool) {
        self.beatTime = beatTime; self.emissionTime = emissionTime; self.tempo = tempo
        self.confidence = confidence; self.count = count; self.predicted = predicted
    }

    /// How long before the beat the event left (s); negative when it left after the beat.
    public var lead: Double { beatTime - emissionTime }
}
