/// Where operator commands come from (issue 20; docs/control.md).
public struct ControlConfig: Sendable, Equatable {
    /// OSC commands over UDP on this address, "host:port" with a numeric host (127.0.0.1,
    /// 0.0.0.0, [::1], [::]); empty = off. Sources other than loopback need `allow`.
    public var listen: String = "127.0.0.1:7710"
    /// Sources besides loopback that may send commands: comma-separated addresses or CIDR
    /// prefixes (192.168.1.0/24, fd00::/8); empty = loopback only.
    public var allow: String = ""
    /// Commands accepted per second from each input (OSC, the socket); more are dropped and counted.
    public var maxRate: Double = 50
    /// Whether the JSON-line socket (output.jsonl_socket) takes commands.
    public var socketCommands: Bool = true

    public init() {}
}
