import Glibc

/// A UNIX stream socket's file system address (`sockaddr_un`), checked once: not empty, and
/// short enough for `sun_path` (at most 107 bytes) with its terminating zero.
public struct UnixSocketAddress: @unchecked Sendable {
    public let path: String
    private var addr = sockaddr_un()

    public init(_ path: String) throws(OutputError) {
        self.path = path
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty, bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            throw OutputError("\(path): path empty or too long for a UNIX socket (at most 107 bytes)")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
    }

    /// `body` with the address as bind(2) and connect(2) take it.
    public func withSockaddr(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
        var a = addr
        return withUnsafePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }
}
