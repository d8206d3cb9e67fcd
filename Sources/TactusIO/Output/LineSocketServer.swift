import Glibc

/// A UNIX stream socket that serves JSON lines to any number of clients (`tactus monitor`, a
/// script). Non-blocking throughout: new clients are accepted when lines are written; a client
/// that cannot take a line at once (slow, gone) is dropped, never waited for.
public final class LineSocketServer: @unchecked Sendable {
    public let path: String
    private let listener: Int32
    private var clients: [Int32] = []
    public private(set) var dropped = 0

    public init(path: String) throws(OutputError) {
        self.path = path
        unlink(path)
        listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else { throw OutputError("\(path): socket: \(String(cString: strerror(errno)))") }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            close(listener)
            throw OutputError("\(path): path too long for a UNIX socket")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(listener, 8) == 0 else {
            let why = String(cString: strerror(errno))
            close(listener)
            throw OutputError("\(path): cannot listen: \(why)")
        }
    }

    deinit {
        for c in clients { close(c) }
        close(listener)
        unlink(path)
    }

    public var clientCount: Int { clients.count }

    /// Accepts waiting clients, then writes `text` (whole lines) to every client.
    public func write(_ text: String) {
        while true {
            let c = accept(listener, nil, nil)
            if c < 0 { break }
            _ = fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK)
            _ = fcntl(c, F_SETFD, FD_CLOEXEC)
            clients.append(c)
        }
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return }
        clients.removeAll { c in
            let n = bytes.withUnsafeBytes { Glibc.send(c, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT)) }
            if n == bytes.count { return false }
            // A partial line would corrupt the stream: a client that cannot keep up is dropped.
            close(c)
            dropped += 1
            return true
        }
    }
}
