import Foundation
import TactusCore

/// Renders beats as text lines or JSON lines.
struct BeatWriter: Sendable {
    let format: OutputFormat

    func render(_ beats: [BeatEvent]) -> String {
        var out = ""
        for b in beats {
            switch format {
            case .text:
                out += String(format: "%.4f\n", b.beatTime)
            case .jsonl:
                // Schema: docs/events.md (version 1).
                out += String(format: "{\"v\":1,\"event\":\"beat\",\"time\":%.4f,\"emitted\":%.4f,\"tempo\":%.2f,\"confidence\":%.3f,\"count\":%d,\"predicted\":%@}\n",
                              b.beatTime, b.emissionTime, b.tempo, b.confidence, b.count, b.predicted ? "true" : "false")
            }
        }
        return out
    }
}
