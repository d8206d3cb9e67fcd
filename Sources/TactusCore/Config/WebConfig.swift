/// The daemon's web page, its live transport and /metrics (issue 21; docs/web.md).
public struct WebConfig: Sendable, Equatable {
    /// HTTP on "host:port" with a numeric host; empty = off (no server, no thread). A host other
    /// than loopback needs `token`.
    public var listen: String = "127.0.0.1:7780"
    /// The secret the page, the API and the WebSocket must present; empty = none (loopback only).
    public var token: String = ""
    /// Live pages (WebSocket clients) at once; more are refused.
    public var maxClients: Int = 8
    /// Activation pushes to the page per second (beats go at once; the status 4 times a second).
    public var updateRate: Double = 20

    public init() {}

    /// Whether `listen`'s host is a loopback address (127.0.0.0/8, ::1).
    public var listensOnLoopback: Bool {
        guard let (host, _) = try? HostPort.parse(listen, key: "web.listen", anyPort: true),
              let bytes = AddressFilter.address(host) else { return false }
        return bytes.count == 4 ? bytes[0] == 127 : bytes == [UInt8](repeating: 0, count: 15) + [1]
    }
}
