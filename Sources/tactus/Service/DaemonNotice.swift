import Glibc
import TactusCore

/// A state change of the daemon as a JSON line (docs/events.md, "Notices"): device opened, lost
/// or unavailable, capture gap, tempo lock and unlock, output target failing and recovering,
/// configuration reload, repaired input, stop. Made on the main and output threads, never on the
/// capture or processing threads.
struct DaemonNotice {
    var kind: String
    var message: String
    /// Extra fields, already JSON-encoded values.
    var fields: [(String, String)] = []

    func json(streamTime: Double, hostNanos: Int64) -> String {
        var s = "{\"v\":1,\"event\":\"notice\",\"kind\":\"\(kind)\""
        s += String(cFormat: ",\"time\":%.4f,\"host_time\":%.6f", streamTime, Double(hostNanos) / 1e9)
        for (k, v) in fields { s += ",\"\(k)\":\(v)" }
        s += ",\"message\":\(Self.quoted(message))}"
        return s
    }

    /// A JSON string literal.
    static func quoted(_ text: String) -> String { JSONString.quoted(text) }
}
