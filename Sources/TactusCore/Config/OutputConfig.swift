/// Where beats go besides JSON lines on stdout.
public struct OutputConfig: Sendable, Equatable {
    /// OSC targets, comma-separated "host:port" or "[v6]:port", each optionally "/preset"
    /// (generic, qlcplus, resolume, grandma3); unicast or multicast. Empty: none.
    public var oscTargets: String = ""
    /// Predicted beats in a bundle timetagged with the beat's time (receivers that schedule act
    /// exactly on the beat); false: plain messages sent `emission.lead` early.
    public var oscTimetags: Bool = true
    /// Multicast hops (TTL).
    public var oscTTL: Int = 1
    /// Multicast interface name; empty = the system's choice.
    public var oscInterface: String = ""
    /// The address QLC+'s momentary button listens on.
    public var qlcPath: String = "/tactus/beat"
    /// grandMA3 command line sent on tempo changes; %bpm is replaced by the tempo.
    public var ma3Command: String = "Master 3.1 At BPM %bpm"

    /// JSON lines on stdout.
    public var stdout: Bool = true
    /// UNIX socket serving JSON lines (beats and a status line 4 times a second) to any number of
    /// clients, such as `tactus monitor`; empty = none.
    public var jsonlSocket: String = ""
    /// JSON lines as UDP datagrams (one object each) to host:port; empty = none.
    public var jsonlUDP: String = ""

    public init() {}
}
