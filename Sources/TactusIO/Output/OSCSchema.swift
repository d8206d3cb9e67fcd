import Glibc
import TactusCore

/// Per-target encoder with the little state some presets need.
public struct OSCSchema: Sendable {
    public let preset: OSCPreset
    public let timetags: Bool
    public let qlcPath: String
    /// QLC+'s bar and phrase buttons (empty: not sent).
    public let qlcBarPath: String
    public let qlcPhrasePath: String
    public let ma3Command: String
    /// How long after the beat QLC+'s button is released (s), by default (`+release=`).
    public static let qlcRelease = 0.05
    /// How long after the beat this target's button is released (s; the qlcplus preset).
    public let release: Double
    private var lastTempoSent = 0.0
    private var wasPredicting = false

    /// Send this target's beat packets this long before the beat (s); nil: at once.
    public let lead: Double?

    public init(preset: OSCPreset, timetags: Bool = true, qlcPath: String = "/tactus/beat",
                qlcBarPath: String = "/tactus/bar", qlcPhrasePath: String = "/tactus/phrase",
                ma3Command: String = "Master 3.1 At BPM %bpm", lead: Double? = nil, release: Double = Self.qlcRelease) {
        self.preset = preset
        self.qlcBarPath = qlcBarPath
        self.qlcPhrasePath = qlcPhrasePath
        self.lead = lead
        self.release = release
        self.timetags = timetags
        self.qlcPath = qlcPath
        self.ma3Command = ma3Command
    }

    /// When a predicted beat's packets leave for a target, before the beat (s): `+lead=` when
    /// given; else the receiver's own delay where it is known and shorter than `emissionLead`
    /// (QLC+ acts on a packet 20-40 ms after it arrives, so its button goes down on the beat);
    /// else `emissionLead`, the promise of docs/osc.md. Held until then, so every target gets
    /// its beats at the same lead, whenever the prediction was made.
    public static func sendLead(preset: OSCPreset, lead: Double?, emissionLead: Double) -> Double {
        if let lead { return lead }
        if let delay = preset.receiverDelay { return min(delay, emissionLead) }
        return emissionLead
    }

    /// `/tactus/phase f phase f tempo` for the generic schema (nil for the presets): the beat
    /// phase in [0, 1) at `unixTime`, extrapolated from the last beat at `lastBeatUnixTime`.
    public func phasePacket(unixTime: Double, lastBeatUnixTime: Double, tempo: Double) -> OSCPacket? {
        guard preset == .generic, tempo > 0 else { return nil }
        let beats = (unixTime - lastBeatUnixTime) * tempo / 60
        let phase = beats - beats.rounded(.down)
        return .message(address: "/tactus/phase", arguments: [.float32(Float(phase)), .float32(Float(tempo))])
    }

    /// Packets to send now for a beat (`beatUnixTime`: the beat on the wall clock), and packets to
    /// send `qlcRelease` s later (QLC+'s release).
    public mutating func packets(for e: BeatEvent, beatUnixTime: Double) -> (now: [OSCPacket], later: [OSCPacket]) {
        let barStart = e.beatInBar == 1
        let phraseStart = barStart && e.phraseBar == 1
        switch preset {
        case .generic:
            // The beat in its bar is the 5th argument: receivers that read four ignore it.
            var args: [OSCArgument] = [
                .int32(Int32(truncatingIfNeeded: e.count)), .float32(Float(e.tempo)), .float32(Float(e.confidence)),
                .bool(e.predicted),
            ]
            if e.beatInBar > 0 { args.append(.int32(Int32(truncatingIfNeeded: e.beatInBar))) }
            var messages: [OSCPacket] = [
                .message(address: "/tactus/beat", arguments: args),
                .message(address: "/tactus/tempo", arguments: [.float32(Float(e.tempo))]),
            ]
            if barStart {
                messages.append(.message(address: "/tactus/bar", arguments: [.int32(Int32(truncatingIfNeeded: e.bar))]))
            }
            if phraseStart {
                messages.append(.message(address: "/tactus/phrase",
                                         arguments: [.int32(Int32(truncatingIfNeeded: e.phrase))]))
            }
            guard timetags && e.predicted else { return (messages, []) }
            return ([.bundle(timetag: OSCTimeTag(unixTime: beatUnixTime), elements: messages)], [])
        case .qlcplus:
            var paths = [qlcPath]
            if barStart && !qlcBarPath.isEmpty { paths.append(qlcBarPath) }
            if phraseStart && !qlcPhrasePath.isEmpty { paths.append(qlcPhrasePath) }
            return (paths.map { .message(address: $0, arguments: [.float32(1)]) },
                    paths.map { .message(address: $0, arguments: [.float32(0)]) })
        case .resolume:
            let normalised = Float(min(max((e.tempo - 20) / 480, 0), 1))
            var out: [OSCPacket] = [.message(address: "/composition/tempocontroller/tempo",
                                             arguments: [.float32(normalised)])]
            // Resync puts Resolume's bar start on this beat: on the first predicted beat, then,
            // once the operator set the downbeat, on each phrase's first beat (its bar 1).
            let operatorBars = e.barSource == .operator
            if e.predicted && ((!wasPredicting && !operatorBars) || (operatorBars && phraseStart)) {
                out.append(.message(address: "/composition/tempocontroller/resync", arguments: [.int32(1)]))
            }
            wasPredicting = e.predicted
            return (out, [])
        case .grandma3:
            guard abs(e.tempo - lastTempoSent) >= 0.5 else { return ([], []) }
            lastTempoSent = e.tempo
            let bpm = (e.tempo * 10).rounded() / 10
            let command = ma3Command.replacing("%bpm", with: bpm == bpm.rounded() ? String(Int(bpm)) : String(bpm))
            return ([.message(address: "/cmd", arguments: [.string(command)])], [])
        }
    }
}
