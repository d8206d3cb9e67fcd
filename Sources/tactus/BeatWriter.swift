import Foundation
import TactusIO

/// Renders beats as text lines or JSON lines.
struct BeatWriter: Sendable {
    let format: OutputFormat

    func render(_ beats: [TrackedBeat]) -> String {
        var out = ""
        for b in beats {
            switch format {
            case .text:
                out += String(format: "%.3f\n", b.time)
            case .jsonl:
                out += String(format: "{\"time\":%.3f,\"tempo\":%.2f,\"activation\":%.4f,\"count\":%d}\n",
                              b.time, b.tempo, b.activation, b.count)
            }
        }
        return out
    }
}
