/// A beat as it leaves the core (DESIGN.md's event schema): when it sounds and when it was sent,
/// both on the stream clock.
public struct BeatEvent: Sendable, Equatable, BitwiseCopyable {
    /// When the beat sounds (s, stream clock, sub-frame).
    public var beatTime: Double
    /// When the event can leave: the stream time at the end of the block (capture period) whose
    /// samples completed the frame that made it (s).
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
    /// A predicted beat that left with less than `emission.lead` to go (its prediction moved
    /// nearer between two blocks).
    public var late: Bool
    /// Position in the bar, 1 ... meter (issue 20; `BarCounter`); 0 when not counted (an event
    /// straight from the emitter, outside a pipeline).
    public var beatInBar: Int = 0
    /// Bar count, from 1 (0 when not counted).
    public var bar: Int = 0
    /// Bar within the phrase, 1 ... phrase length (0 when not counted).
    public var phraseBar: Int = 0
    /// Phrase count, from 1 (0 when not counted).
    public var phrase: Int = 0
    /// Beats per bar in force (0 when not counted).
    public var meter: Int = 0
    /// Whether bar 1 was set by the operator (`downbeat`) or counted from the first beat.
    public var barSource: BarSource = .count

    public init(beatTime: Double, emissionTime: Double, tempo: Double, confidence: Double, count: Int,
                predicted: Bool, late: Bool = false) {
        self.beatTime = beatTime; self.emissionTime = emissionTime; self.tempo = tempo
        self.confidence = confidence; self.count = count; self.predicted = predicted; self.late = late
    }

    /// How long before the beat the event left (s); negative when it left after the beat.
    public var lead: Double { beatTime - emissionTime }

    /// The beat as a JSON line of docs/events.md (schema version 1), with the daemon's host time
    /// and sequence number when given; ends with a newline. Bar fields are there when counted.
    public func jsonLine(hostTime: Double? = nil, seq: Int? = nil) -> String {
        var s = String(cFormat: "{\"v\":1,\"event\":\"beat\",\"time\":%.4f,\"emitted\":%.4f,\"tempo\":%.2f,"
                                + "\"confidence\":%.3f,\"count\":%d,",
                       beatTime, emissionTime, tempo, confidence, count)
        s += predicted ? "\"predicted\":true" : "\"predicted\":false"
        if late { s += ",\"late\":true" }
        if beatInBar > 0 {
            s += ",\"beat_in_bar\":\(beatInBar),\"meter\":\(meter),\"bar\":\(bar)"
            s += ",\"phrase_bar\":\(phraseBar),\"phrase\":\(phrase)"
            s += barSource == .operator ? ",\"bar_source\":\"operator\"" : ",\"bar_source\":\"count\""
        }
        if let hostTime { s += String(cFormat: ",\"host_time\":%.6f", hostTime) }
        if let seq { s += ",\"seq\":\(seq)" }
        return s + "}\n"
    }
}

/// Where a beat's bar position comes from.
public enum BarSource: UInt8, Sendable, Equatable, BitwiseCopyable {
    /// Counted from the first beat (no `downbeat` from the operator yet).
    case count
    /// Counted from the operator's `downbeat`.
    case `operator`
}
