/// Where beats go besides JSON lines on stdout.
public struct OutputConfig: Sendable, Equatable {
    /// OSC targets, comma-separated "host:port" ("[v6]:port"); unicast or multicast. Empty: none.
    public var oscTargets: String = ""
    /// Predicted beats in a bundle timetagged with the beat's time (receivers that schedule act
    /// exactly on the beat); false: plain messages sent `emission.lead` early.
    public var oscTimetags: Bool = true
    /// Multicast hops (TTL).
    public var oscTTL: Int = 1
    /// Multicast interface name; empty = the system's choice.
    public var oscInterface: String = ""

    public init() {}
}
