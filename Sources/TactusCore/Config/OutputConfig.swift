/// Where beats go besides JSON lines on stdout.
public struct OutputConfig: Sendable, Equatable {
    /// OSC targets, comma-separated "host:port" or "[v6]:port", each optionally "/preset"
    /// (generic, qlcplus, resolume, grandma3); unicast or multicast. Empty: none.
    public var oscTargets: String = ""
    /// Predicted beats in a bundle timetagged with the beat's time (receivers that schedule act
    /// exactly on the beat); false: plain messages sent `emission.lead` early.
    public var oscTimetags: Bool = true
    /// `/tactus/phase` (beat phase 0–1 and tempo) to generic targets this many times a second,
    /// extrapolated from the last beat sent; 0 = off.
    public var oscPhaseRate: Double = 0
    /// Multicast hops (TTL).
    public var oscTTL: Int = 1
    /// Multicast interface name; empty = the system's choice.
    public var oscInterface: String = ""
    /// The address QLC+'s momentary button listens on.
    public var qlcPath: String = "/tactus/beat"
    /// The addresses of QLC+'s bar and phrase buttons (pressed on beat 1 of a bar, of a phrase);
    /// empty = not sent.
    public var qlcBarPath: String = "/tactus/bar"
    public var qlcPhrasePath: String = "/tactus/phrase"
    /// grandMA3 command line sent on tempo changes; %bpm is replaced by the tempo.
    public var ma3Command: String = "Master 3.1 At BPM %bpm"

    /// JSON lines on stdout.
    public var stdout: Bool = true
    /// UNIX socket serving JSON lines (beats and a status line 4 times a second) to any number of
    /// clients, such as `tactus monitor`; empty = none.
    public var jsonlSocket: String = ""
    /// Permission bits of that socket, octal: 0660 lets the daemon's group connect (the service
    /// runs as group tactus); the service's UMask would otherwise leave it 0700.
    public var jsonlSocketMode: String = "0660"
    /// Group of that socket; empty = the daemon's own group.
    public var jsonlSocketGroup: String = ""
    /// JSON lines as UDP datagrams (one object each) to host:port; empty = none.
    public var jsonlUDP: String = ""

    /// MIDI clock (24 ppqn, Start/Stop, Song Position) over an RTP-MIDI (AppleMIDI) session that
    /// Tactus initiates with this peer's control port, "host:port"; empty = none.
    public var midiRTPPeer: String = ""
    /// The session name the peer sees.
    public var midiRTPName: String = "Tactus"
    /// MIDI clock to the ALSA sequencer: a client "Tactus" with an output port "clock".
    public var midiALSA: Bool = false
    /// Connect that port at start to this sequencer port ("client:port" or a client name); empty = none.
    public var midiALSAConnect: String = ""
    /// Largest change of the clock's tick period per beat (fraction), so followers stay locked.
    public var midiMaxChange: Double = 0.02

    public init() {}

    /// `jsonlSocketMode` as permission bits; nil when it is not 3 or 4 octal digits within 0777.
    public var socketMode: UInt32? {
        let digits = jsonlSocketMode.hasPrefix("0o") ? String(jsonlSocketMode.dropFirst(2)) : jsonlSocketMode
        guard (3...4).contains(digits.count), let v = UInt32(digits, radix: 8), v <= 0o777 else { return nil }
        return v
    }
}
