import Glibc

/// A UNIX stream socket that serves JSON lines to any number of clients (`tactus monitor`, a
/// script). Non-blocking throughout: new clients are accepted when lines are written; a client
/// that cannot take a line at once (slow, gone) is dropped, never waited for. What clients send
/// is read and discarded, bounded per write, so a chatty client can neither fill our buffers nor
/// stall us (commands on this socket come with stage control).
///
/// The path is the user's: only a stale socket (one nobody answers on) is removed before
/// binding. A live socket (a second daemon) or anything that is not a socket is an error that
/// says what is there; at exit only our own socket is removed (docs/safety.md).
public final class LineSocketServer: @unchecked Sendable {
    public let path: String
    private let listener: Int32
    private var clients: [Int32] = []
    /// Device and inode of the socket we bound, so that deinit unlinks only ours.
    private var boundFile: (dev_t, ino_t) = (0, 0)
    public private(set) var dropped = 0
    /// Bytes that clients sent (read and discarded).
    public private(set) var ignoredBytes = 0
    private var scratch = [UInt8](repeating: 0, count: 4096)

    /// `mode`: permission bits of the socket file (0660: the daemon's group may connect);
    /// `group`: its group, or nil for the daemon's own.
    public init(path: String, mode: mode_t = 0o660, group: gid_t? = nil) throws(OutputError) {
        self.path = path
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty, bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            throw OutputError("\(path): path empty or too long for a UNIX socket (at most 107 bytes)")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
        try Self.clearStale(path, addr)
        listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else { throw OutputError("\(path): socket: \(String(cString: strerror(errno)))") }
        let bound = Self.withAddress(addr) { bind(listener, $0, $1) }
        guard bound == 0 else {
            let why = String(cString: strerror(errno))
            close(listener)
            throw OutputError("\(path): cannot bind: \(why)")
        }
        var info = stat()
        if lstat(path, &info) == 0 { boundFile = (info.st_dev, info.st_ino) }
        // The mode is set explicitly: the service's UMask=0077 would leave the socket 0700,
        // unusable by anyone in the group.
        if chmod(path, mode) != 0 || (group.map { chown(path, uid_t.max, $0) != 0 } ?? false) || listen(listener, 8) != 0 {
            let why = String(cString: strerror(errno))
            removeOwnSocket()
            close(listener)
            throw OutputError("\(path): cannot set up the socket (mode \(String(mode, radix: 8))"
                              + "\(group.map { ", group \($0)" } ?? "")): \(why)")
        }
    }

    deinit {
        for c in clients { close(c) }
        close(listener)
        removeOwnSocket()
    }

    /// Unlinks the path only while it is still the socket this server bound.
    private func removeOwnSocket() {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK,
              info.st_dev == boundFile.0, info.st_ino == boundFile.1 else { return }
        unlink(path)
    }

    /// Removes `path` only if it is a socket that refuses connections (left by a daemon that
    /// died); anything else there is an error naming it.
    static func clearStale(_ path: String, _ addr: sockaddr_un) throws(OutputError) {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return }
            throw OutputError("\(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFSOCK else {
            throw OutputError("\(path) exists and is \(kind(info.st_mode)), not a socket: not replacing it "
                              + "(output.jsonl_socket must name a free path or a stale socket)")
        }
        let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard probe >= 0 else { throw OutputError("\(path): socket: \(String(cString: strerror(errno)))") }
        let connected = withAddress(addr) { connect(probe, $0, $1) }
        let error = errno
        close(probe)
        if connected == 0 {
            throw OutputError("\(path): another process is serving on this socket (a second tactus?): not taking it over")
        }
        guard error == ECONNREFUSED else {
            throw OutputError("\(path): cannot tell whether the socket there is in use (\(String(cString: strerror(error)))): "
                              + "not replacing it")
        }
        guard unlink(path) == 0 || errno == ENOENT else {
            throw OutputError("\(path): cannot remove the stale socket: \(String(cString: strerror(errno)))")
        }
    }

    static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: "a regular file"
        case S_IFDIR: "a directory"
        case S_IFLNK: "a symbolic link"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFIFO: "a FIFO"
        default: "something else"
        }
    }

    private static func withAddress(_ addr: sockaddr_un, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
        var a = addr
        return withUnsafePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }

    public var clientCount: Int { clients.count }

    /// Accepts waiting clients, discards what they sent, then writes `text` (whole lines) to every client.
    public func write(_ text: String) {
        while true {
            let c = accept(listener, nil, nil)
            if c < 0 { break }
            _ = fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK)
            _ = fcntl(c, F_SETFD, FD_CLOEXEC)
            clients.append(c)
        }
        drainInput()
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

    /// Reads at most 64 KiB per client per call and throws it away (a client that is gone is
    /// dropped by the next failed send).
    private func drainInput() {
        for c in clients {
            var budget = 65_536
            while budget > 0 {
                let n = scratch.withUnsafeMutableBytes { recv(c, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                guard n > 0 else { break }  // nothing waiting, or the client closed its sending side
                ignoredBytes += n
                budget -= n
            }
        }
    }
}
