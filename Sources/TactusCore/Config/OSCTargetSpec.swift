import Glibc

/// What a beat becomes on the wire, per target (docs/osc.md).
public enum OSCPreset: String, Sendable, CaseIterable {
    /// `/tactus/beat` ,iffT|F and `/tactus/tempo` ,f; predicted beats in timetagged bundles.
    case generic
    /// QLC+'s OSC input: a momentary button, 1.0 on the beat then 0.0 (sent `qlcRelease` later).
    case qlcplus
    /// Resolume Arena/Avenue: the composition tempo controller, normalised over 20–500 BPM, and a
    /// resync on the first predicted beat after lock.
    case resolume
    /// grandMA3: a command line on `/cmd` when the tempo moved by half a BPM or more.
    case grandma3

    /// How long the receiver takes from a packet's arrival to acting on it (s), where measured:
    /// QLC+ 4.12.6 applies OSC input in its 50 Hz engine loop (bench/results/qlcplus.md).
    /// Resolume and grandMA3: not measured here (neither runs on Linux), so nil.
    public var receiverDelay: Double? {
        switch self {
        case .qlcplus: 0.030
        case .generic, .resolume, .grandma3: nil
        }
    }
}

/// One entry of `output.osc_targets`: `host:port[/preset][+plain][+lead=SECONDS]`.
///
/// - `preset`: generic (default), qlcplus, resolume, grandma3 (docs/osc.md);
/// - `+plain`: no timetagged bundles for this target (receivers that ignore timetags), whatever
///   `output.osc_timetags` says; `+bundles` the opposite;
/// - `+lead=S`: send this target's packets S seconds before the beat instead of as soon as the
///   beat is predicted (`emission.lead` before it); S ≤ `emission.lead`.
public struct OSCTargetSpec: Equatable, Sendable {
    public var address: String
    public var preset = OSCPreset.generic
    public var timetags: Bool?
    public var lead: Double?
    /// `+release=S`: how long after the beat the qlcplus button is released (s).
    public var release: Double?

    /// Every entry of `output.osc_targets` (comma-separated; blanks ignored).
    public static func list(_ text: String) throws(ConfigError) -> [OSCTargetSpec] {
        var specs: [OSCTargetSpec] = []
        for entry in text.split(separator: ",") {
            let trimmed = entry.trimmingBlanks()
            if !trimmed.isEmpty { specs.append(try OSCTargetSpec(trimmed)) }
        }
        return specs
    }

    public init(_ entry: String) throws(ConfigError) {
        var parts = entry.split(separator: "+", omittingEmptySubsequences: false).map(String.init)
        var head = parts.removeFirst()
        if let slash = head.lastIndex(of: "/") {
            let name = String(head[head.index(after: slash)...])
            guard let p = OSCPreset(rawValue: name) else {
                throw .invalid(key: "output.osc_targets",
                               "'\(entry)': unknown preset '\(name)' (generic, qlcplus, resolume, grandma3)")
            }
            preset = p
            head = String(head[..<slash])
        }
        address = head
        try HostPort.parse(head, key: "output.osc_targets")
        for option in parts {
            if option == "plain" {
                timetags = false
            } else if option == "bundles" {
                timetags = true
            } else if option.hasPrefix("lead="), let s = Double(option.dropFirst(5)), (0...0.25).contains(s) {
                lead = s
            } else if option.hasPrefix("release="), let s = Double(option.dropFirst(8)), (0.01...1).contains(s) {
                release = s
            } else {
                throw .invalid(key: "output.osc_targets", "'\(entry)': unknown option '+\(option)' (+plain, +bundles, "
                               + "+lead=SECONDS with 0 ≤ SECONDS ≤ 0.25, "
                               + "+release=SECONDS with 0.01 ≤ SECONDS ≤ 1)")
            }
        }
    }
}
