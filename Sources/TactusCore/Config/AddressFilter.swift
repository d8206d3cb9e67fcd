import Glibc

/// Which network sources may send commands (`control.allow`): loopback always, plus listed
/// addresses and CIDR prefixes, IPv4 and IPv6 (an IPv4-mapped IPv6 source counts as IPv4).
public struct AddressFilter: Sendable, Equatable {
    struct Prefix: Sendable, Equatable {
        var bytes: [UInt8]  // 4 or 16
        var length: Int
    }

    private var prefixes: [Prefix] = []

    /// Parses `control.allow`; throws naming the entry that is not an address or prefix.
    public init(_ text: String) throws(ConfigError) {
        for part in text.split(separator: ",") {
            let entry = part.trimmingBlanks()
            guard !entry.isEmpty else { continue }
            let pieces = entry.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2, let bytes = Self.address(String(pieces[0])) else {
                throw .invalid(key: "control.allow", "'\(entry)' is not an IP address or CIDR prefix (192.168.1.0/24)")
            }
            var length = bytes.count * 8
            if pieces.count == 2 {
                guard let n = Int(pieces[1]), (0...bytes.count * 8).contains(n) else {
                    throw .invalid(key: "control.allow", "'\(entry)': the prefix length must be 0-\(bytes.count * 8)")
                }
                length = n
            }
            prefixes.append(Prefix(bytes: bytes, length: length))
        }
    }

    /// The 4 or 16 bytes of a numeric address, or nil.
    public static func address(_ text: String) -> [UInt8]? {
        var v4 = in_addr(), v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    /// Whether a source with these address bytes (4 or 16) may send commands.
    public func allows(_ source: [UInt8]) -> Bool {
        var a = source
        if a.count == 16 && a[0..<10].allSatisfy({ $0 == 0 }) && a[10] == 0xFF && a[11] == 0xFF {
            a = Array(a[12...])  // IPv4-mapped
        }
        if a.count == 4 && a[0] == 127 { return true }
        if a.count == 16 && a == [UInt8](repeating: 0, count: 15) + [1] { return true }
        return prefixes.contains { p in
            guard p.bytes.count == a.count else { return false }
            var left = p.length
            for i in 0..<a.count where left > 0 {
                let bits = min(8, left)
                let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
                if a[i] & mask != p.bytes[i] & mask { return false }
                left -= bits
            }
            return true
        }
    }

    /// Checks `control.listen`: host:port with a numeric host (an address to bind, not a name).
    public static func checkListen(_ text: String) throws(ConfigError) {
        let (host, _) = try HostPort.parse(text, key: "control.listen", anyPort: true)
        guard address(host) != nil else {
            throw .invalid(key: "control.listen",
                           "'\(text)': the host must be a numeric address (127.0.0.1, 0.0.0.0, [::1])")
        }
    }
}
