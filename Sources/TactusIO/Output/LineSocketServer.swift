import Glibc
import Synchronization

/// A UNIX stream socket that serves JSON lines to any number of clients (`tactus monitor`, a
/// script, `tactus ctl`). Non-blocking throughout: new clients are accepted when lines are
/// written or read; a client that cannot take a line at once (slow, gone) is dropped, never
/// waited for. What clients send is read in bounded amounts: as command lines (`readLines`, the
/// control thread) when the socket takes commands, else discarded, so a chatty client can
/// neither fill our buffers nor stall us. The output thread writes and the control thread reads:
/// the client list is behind a lock that neither holds for longer than a round of non-blocking
/// calls.
///
/// The path is the user's: only a stale socket (one nobody answers on) is removed before
/// binding. A live socket (a second daemon) or anything that is not a socket is an error that
/// says what is there; at exit only our own socket is removed (docs/safety.md).
public final class LineSocketServer: @unchecked Sendable {
    public let path: String
    private let listener: Int32
    private struct Client {
        var fd: Int32
        var id: Int
        var lines: LineAssembler
    }
    private struct State {
        var clients: [Client] = []
        var nextID = 1
        var dropped = 0
        var ignoredBytes = 0
        var scratch = [UInt8](repeating: 0, count: 4096)
    }
    private let state = Mutex(State())
    /// Device and inode of the socket we bound, so that deinit unlinks only ours.
    private var boundFile: (dev_t, ino_t) = (0, 0)
    /// Clients dropped because they could not take a line.
    public var dropped: Int { state.withLock { $0.dropped } }
    /// Bytes that clients sent and nobody read as commands (discarded).
    public var ignoredBytes: Int { state.withLock { $0.ignoredBytes } }
    /// Set before serving: client input is kept for `readLines` instead of being discarded.
    public var takesCommands = false
    /// Longest command line kept (longer ones are dropped and counted).
    public static let maxLineBytes = 1024

    /// `mode`: permission bits of the socket file (0660: the daemon's group may connect);
    /// `group`: its group, or nil for the daemon's own.
    public init(path: String, mode: mode_t = 0o660, group: gid_t? = nil) throws(OutputError) {
        self.path = path
        let addr = try UnixSocketAddress(path)
        try Self.clearStale(path, addr)
        listener = socket(AF_UNIX,
                          Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else { throw OutputError("\(path): socket: \(String(cString: strerror(errno)))") }
        let bound = addr.withSockaddr { bind(listener, $0, $1) }
        guard bound == 0 else {
            let why = String(cString: strerror(errno))
            close(listener)
            throw OutputError("\(path): cannot bind: \(why)")
        }
        var info = stat()
        if lstat(path, &info) == 0 { boundFile = (info.st_dev, info.st_ino) }
        // The mode is set explicitly: the service's UMask=0077 would leave the socket 0700,
        // unusable by anyone in the group.
        if chmod(path, mode) != 0 || (group.map { chown(path, uid_t.max, $0) != 0 } ?? false)
            || listen(listener, 8) != 0 {
            let why = String(cString: strerror(errno))
            removeOwnSocket()
            close(listener)
            throw OutputError("\(path): cannot set up the socket (mode \(String(mode, radix: 8))"
                              + "\(group.map { ", group \($0)" } ?? "")): \(why)")
        }
    }

    deinit {
        for c in state.withLock({ $0.clients }) { close(c.fd) }
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
    static func clearStale(_ path: String, _ addr: UnixSocketAddress) throws(OutputError) {
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
        let connected = addr.withSockaddr { connect(probe, $0, $1) }
        let error = errno
        close(probe)
        if connected == 0 {
            throw OutputError("\(path): another process is serving on this socket (a second tactus?): "
                              + "not taking it over")
        }
        guard error == ECONNREFUSED else {
            throw OutputError("\(path): cannot tell whether the socket there is in use "
                              + "(\(String(cString: strerror(error)))): "
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

    public var clientCount: Int { state.withLock { $0.clients.count } }

    /// The descriptors to wait on for input (`poll`): the listener and every client.
    public func descriptors() -> [Int32] { state.withLock { [listener] + $0.clients.map(\.fd) } }

    /// Accepts waiting clients, then writes `text` (whole lines) to every client; client input is
    /// discarded here unless the socket takes commands.
    public func write(_ text: String) {
        state.withLock { s in
            accept(&s)
            if !takesCommands { drainInput(&s) }
            let bytes = Array(text.utf8)
            guard !bytes.isEmpty else { return }
            var kept: [Client] = []
            for c in s.clients where send(bytes, to: c.fd, &s) { kept.append(c) }
            s.clients = kept
        }
    }

    /// Writes `text` to one client (an ack); false when it is gone or could not take it.
    @discardableResult
    public func write(_ text: String, toClient id: Int) -> Bool {
        state.withLock { s in
            guard let i = s.clients.firstIndex(where: { $0.id == id }) else { return false }
            if send(Array(text.utf8), to: s.clients[i].fd, &s) { return true }
            s.clients.remove(at: i)
            return false
        }
    }

    /// Accepts waiting clients and reads what they sent, at most 64 KiB per client per call:
    /// each complete line goes to `onLine` with the client's id (overlong lines are dropped and
    /// reported as `nil`). A client that closed is dropped.
    public func readLines(_ onLine: (Int, ArraySlice<UInt8>?) -> Void) {
        state.withLock { s in
            accept(&s)
            var gone: [Int] = []
            for i in s.clients.indices {
                var budget = 65_536
                while budget > 0 {
                    let fd = s.clients[i].fd
                    let n = s.scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                    if n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) { gone.append(s.clients[i].id); break }
                    guard n > 0 else { break }
                    budget -= n
                    let id = s.clients[i].id
                    let overlong = s.clients[i].lines.overlongLines
                    s.clients[i].lines.feed(s.scratch[0..<n]) { onLine(id, $0) }
                    if s.clients[i].lines.overlongLines != overlong { onLine(id, nil) }
                }
            }
            s.clients.removeAll { c in
                guard gone.contains(c.id) else { return false }
                close(c.fd)
                return true
            }
        }
    }

    private func accept(_ s: inout State) {
        while true {
            let c = Glibc.accept(listener, nil, nil)
            if c < 0 { break }
            _ = fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK)
            _ = fcntl(c, F_SETFD, FD_CLOEXEC)
            s.clients.append(Client(fd: c, id: s.nextID, lines: LineAssembler(maxLineBytes: Self.maxLineBytes)))
            s.nextID += 1
        }
    }

    /// Sends whole; a client that cannot take it is closed (a partial line would corrupt the
    /// stream) and counted.
    private func send(_ bytes: [UInt8], to fd: Int32, _ s: inout State) -> Bool {
        let n = bytes.withUnsafeBytes {
            Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
        }
        if n == bytes.count { return true }
        close(fd)
        s.dropped += 1
        return false
    }

    /// Reads at most 64 KiB per client per call and throws it away (a client that is gone is
    /// dropped by the next failed send).
    private func drainInput(_ s: inout State) {
        for c in s.clients {
            var budget = 65_536
            while budget > 0 {
                let n = s.scratch.withUnsafeMutableBytes { recv(c.fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                guard n > 0 else { break }  // nothing waiting, or the client closed its sending side
                s.ignoredBytes += n
                budget -= n
            }
        }
    }
}
