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

    public init(_ entry: String) throws(OutputError) {
        var parts = entry.split(separator: "+", omittingEmptySubsequences: false).map(String.init)
        var head = parts.removeFirst()
        if let slash = head.lastIndex(of: "/") {
            let name = String(head[head.index(after: slash)...])
            guard let p = OSCPreset(rawValue: name) else {
                throw OutputError("'\(entry)': unknown preset '\(name)' (generic, qlcplus, resolume, grandma3)")
            }
            preset = p
            head = String(head[..<slash])
        }
        address = head
        for option in parts {
            if option == "plain" {
                timetags = false
            } else if option == "bundles" {
                timetags = true
            } else if option.hasPrefix("lead="), let s = Double(option.dropFirst(5)), (0...0.25).contains(s) {
                lead = s
            } else {
                throw OutputError("'\(entry)': unknown option '+\(option)' (+plain, +bundles, +lead=SECONDS with 0 ≤ SECONDS ≤ 0.25)")
            }
        }
    }
}
