import TactusCore

/// The generic address schema (docs/osc.md): what a beat becomes on the wire.
public enum OSCSchema {
    /// `/tactus/beat` ,iffT|F (count, tempo BPM, confidence, predicted) and `/tactus/tempo` ,f.
    /// A predicted beat with `timetag` travels as one bundle timetagged with the beat's time;
    /// otherwise as plain messages, one datagram each, for receivers without bundle support.
    public static func packets(for e: BeatEvent, beatUnixTime: Double, timetag: Bool) -> [OSCPacket] {
        let beat = OSCPacket.message(address: "/tactus/beat", arguments: [
            .int32(Int32(truncatingIfNeeded: e.count)), .float32(Float(e.tempo)), .float32(Float(e.confidence)),
            .bool(e.predicted),
        ])
        let tempo = OSCPacket.message(address: "/tactus/tempo", arguments: [.float32(Float(e.tempo))])
        guard timetag && e.predicted else { return [beat, tempo] }
        return [.bundle(timetag: OSCTimeTag(unixTime: beatUnixTime), elements: [beat, tempo])]
    }
}
