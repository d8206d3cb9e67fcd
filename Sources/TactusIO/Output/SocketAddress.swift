import Glibc

/// A UDP peer address from "host:port" or "[v6addr]:port" (names resolved once, with getaddrinfo).
public struct SocketAddress: @unchecked Sendable {
    public var storage: sockaddr_storage
    public var length: socklen_t
    public var family: Int32 { Int32(storage.ss_family) }

    /// `portOffset` is added to the port (RTP-MIDI's data port is the control port + 1).
    /// `numericOnly`: never ask a name service (it can block for seconds); a name then throws
    /// `OutputError.unresolved`, to be resolved off the time-critical threads.
    public init(_ text: String, portOffset: UInt16 = 0, numericOnly: Bool = false) throws(OutputError) {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]),
              port <= UInt16.max - portOffset else {
            throw OutputError("\(text): expected host:port")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV | (numericOnly ? AI_NUMERICHOST : 0)
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port + portOffset), &hints, &result)
        guard rc == 0, let info = result else {
            throw OutputError("\(text): cannot resolve \(host): \(String(cString: gai_strerror(rc)))", unresolved: true)
        }
        defer { freeaddrinfo(result) }
        storage = sockaddr_storage()
        length = info.pointee.ai_addrlen
        withUnsafeMutableBytes(of: &storage) { raw in
            raw.copyMemory(from: UnsafeRawBufferPointer(start: info.pointee.ai_addr,
                                                        count: Int(info.pointee.ai_addrlen)))
        }
    }

    /// An address as recvfrom(2) gave it.
    public init(storage: sockaddr_storage, length: socklen_t) {
        self.storage = storage
        self.length = length
    }

    /// The address bytes (4 for IPv4, 16 for IPv6; empty for other families).
    public var addressBytes: [UInt8] {
        var a = storage
        return withUnsafeBytes(of: &a) { raw in
            switch family {
            case AF_INET: Array(raw[4..<8])  // sockaddr_in: family, port, then the address
            case AF_INET6: Array(raw[8..<24])  // sockaddr_in6: family, port, flowinfo, address
            default: []
            }
        }
    }

    /// "host:port" or "[v6]:port", numeric.
    public var description: String {
        var a = storage
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST)), port = [CChar](repeating: 0, count: 16)
        let rc = withUnsafePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getnameinfo($0, length, &host, socklen_t(host.count), &port, socklen_t(port.count),
                            NI_NUMERICHOST | NI_NUMERICSERV)
            }
        }
        guard rc == 0 else { return "?" }
        func text(_ c: [CChar]) -> String {
            String(decoding: c.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        let h = text(host), p = text(port)
        return family == AF_INET6 ? "[\(h)]:\(p)" : "\(h):\(p)"
    }

    /// connect(2) `fd` to this address; 0 or -1 with errno set.
    public func connect(_ fd: Int32) -> Int32 {
        var a = storage
        return withUnsafePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) }
        }
    }
}
