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
            raw.copyMemory(from: UnsafeRawBufferPointer(start: info.pointee.ai_addr, count: Int(info.pointee.ai_addrlen)))
        }
    }

    /// connect(2) `fd` to this address; 0 or -1 with errno set.
    public func connect(_ fd: Int32) -> Int32 {
        var a = storage
        return withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) } }
    }
}
