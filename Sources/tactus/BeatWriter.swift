import Glibc
import TactusCore

/// Renders beats as text lines or JSON lines.
struct BeatWriter: Sendable {
    let format: OutputFormat

    func render(_ beats: [BeatEvent]) -> String {
        var out = ""
        for b in beats {
            switch format {
            case .text:
                out += String(cFormat: "%.4f\n", b.beatTime)
            case .jsonl:
                // Schema: docs/events.md (version 1).
                out += b.jsonLine()
            }
        }
        return out
    }
}
