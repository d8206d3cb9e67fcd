/// The Prometheus text exposition format (version 0.0.4) for /metrics: `# HELP`, `# TYPE` and
/// samples, label values escaped. Written by hand: a few gauges and counters read from the
/// daemon's own counters at scrape time (a registry would hold a second copy of each).
public struct MetricsText {
    public enum Kind: String { case counter, gauge, summary }
    public private(set) var text = ""

    public init() {}

    /// One metric family with its samples: (labels, value).
    public mutating func add(_ name: String, _ kind: Kind, _ help: String, _ samples: [([(String, String)], Double)]) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(kind.rawValue)\n"
        for (labels, value) in samples {
            let l = labels.isEmpty
                ? "" : "{" + labels.map { "\($0.0)=\"\(Self.escaped($0.1))\"" }.joined(separator: ",") + "}"
            text += "\(name)\(l) \(Self.number(value))\n"
        }
    }

    public mutating func add(_ name: String, _ kind: Kind, _ help: String, _ value: Double) {
        add(name, kind, help, [([], value)])
    }

    static func escaped(_ v: String) -> String {
        var out = ""
        for c in v {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }

    static func number(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        return v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v)
    }
}
