/// The syntax of "host:port" and "[v6addr]:port" settings, checked with the configuration so
/// that `check-config` rejects what the daemon would (resolving a name is the daemon's job, at
/// run time and again later: a desk that boots after the tracker is not a configuration error).
public enum HostPort {
    /// Host and port of `text`; throws naming `key` when it is not host:port with a port 1-65535
    /// (0-65535 for an address to bind, `anyPort`: 0 asks the system for a free port).
    @discardableResult
    public static func parse(_ text: String, key: String,
                             anyPort: Bool = false) throws(ConfigError) -> (host: String, port: UInt16) {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]),
              port > 0 || anyPort else {
            throw .invalid(key: key,
                           "'\(text)': expected host:port or [v6addr]:port with a port \(anyPort ? 0 : 1)-65535")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") && host.count > 2 {
            host = String(host.dropFirst().dropLast())
        } else if host.contains(":") {
            throw .invalid(key: key, "'\(text)': an IPv6 address goes in brackets, [addr]:port")
        }
        guard !host.isEmpty, host.utf8.count <= 253,
              !host.contains(where: { $0 == " " || $0 == "\t" || $0 == "/" }) else {
            throw .invalid(key: key, "'\(text)': the host is empty, too long or has blanks")
        }
        return (host, port)
    }
}
