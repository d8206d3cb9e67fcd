import Glibc

/// A file a user named for output (`--plot`, `--activations`, `--output-dir`, `--stats`,
/// `tactus features --output`), written without ever destroying what the name points at
/// (docs/safety.md, "Paths"):
/// - a new name, or a regular file: written to a temporary file beside it, then renamed over it
///   at `commit()` (atomic: readers see the old or the new file, never half of one);
/// - a symbolic link: followed; the link itself is never replaced;
/// - a character device or a FIFO (`/dev/null`, `/dev/full`, a pipe), and `/dev/stdout`,
///   `/dev/stderr`, `/dev/fd/N`: opened and written in place, never truncated or replaced;
/// - a directory, a socket, a block device, a dangling link: an error that says which.
/// Every write is checked; the first failure is thrown with the path and the system's reason.
public final class OutputFile {
    public let path: String
    private var fd: Int32
    /// The temporary file renamed over `destination` at commit; nil when writing in place.
    private var temporary: String?
    private let destination: String
    private var buffer: [UInt8] = []
    private var done = false
    static let bufferSize = 1 << 16

    /// Opens `path` for writing by the rules above.
    public init(path: String) throws(OutputFileError) {
        self.path = path
        let target = try Self.resolve(path)
        switch target {
        case .descriptor(let n):
            fd = dup(n)
            guard fd >= 0 else { throw OutputFileError(path, "cannot write: \(Self.reason(errno))") }
            (temporary, destination) = (nil, path)
        case .inPlace:
            fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY)
            guard fd >= 0 else { throw OutputFileError(path, "cannot open: \(Self.reason(errno))") }
            (temporary, destination) = (nil, path)
        case .replace(let real, let mode):
            let (temp, file) = try Self.createTemporary(beside: real, path: path)
            fd = file
            // A new file gets 0666 less the umask (open applies it); a replaced one keeps its mode.
            if let mode { fchmod(fd, mode) }
            (temporary, destination) = (temp, real)
        }
        buffer.reserveCapacity(Self.bufferSize)
    }

    deinit { if !done { abandon() } }

    /// Appends bytes (buffered); throws the first failed write.
    public func write(_ bytes: [UInt8]) throws(OutputFileError) {
        let failed = bytes.withUnsafeBytes { append($0) }
        if failed != 0 { throw OutputFileError(path, "cannot write: \(Self.reason(failed))") }
    }

    public func write(_ text: String) throws(OutputFileError) {
        var text = text
        let failed = text.withUTF8 { append(UnsafeRawBufferPointer($0)) }
        if failed != 0 { throw OutputFileError(path, "cannot write: \(Self.reason(failed))") }
    }

    /// Buffers `bytes`, writing out when the buffer is full; 0 or the errno of a failed write.
    private func append(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        if buffer.count + bytes.count > Self.bufferSize {
            let failed = buffer.withUnsafeBytes { Self.writeAll(fd, $0) }
            if failed != 0 { return failed }
            buffer.removeAll(keepingCapacity: true)
        }
        if bytes.count >= Self.bufferSize { return Self.writeAll(fd, bytes) }
        buffer.append(contentsOf: bytes)
        return 0
    }

    /// Writes what is buffered, then (for a regular file) syncs it and renames it into place.
    public func commit() throws(OutputFileError) {
        guard !done else { return }
        do throws(OutputFileError) {
            try flush()
            if temporary != nil && fsync(fd) != 0 { throw OutputFileError(path, "cannot write: \(Self.reason(errno))") }
            let closed = close(fd)
            fd = -1
            if closed != 0 && errno != EINTR { throw OutputFileError(path, "cannot write: \(Self.reason(errno))") }
            if let temporary {
                // The name may have changed type since it was resolved: check again just before.
                guard case .replace(let again, _) = try Self.resolve(destination), again == destination else {
                    throw OutputFileError(path,
                                          "changed into something that is not a regular file while it was written")
                }
                guard rename(temporary, destination) == 0 else {
                    throw OutputFileError(path, "cannot rename into place: \(Self.reason(errno))")
                }
                self.temporary = nil
            }
            done = true
        } catch {
            abandon()
            throw error
        }
    }

    /// Gives up: closes, and removes the temporary file (never the destination).
    public func abandon() {
        if fd >= 0 { close(fd); fd = -1 }
        if let temporary { unlink(temporary); self.temporary = nil }
        done = true
    }

    /// The whole of `bytes` to `path`, committed.
    public static func write(_ bytes: [UInt8], to path: String) throws(OutputFileError) {
        let file = try OutputFile(path: path)
        try file.write(bytes)
        try file.commit()
    }

    public static func write(_ text: String, to path: String) throws(OutputFileError) {
        try write(Array(text.utf8), to: path)
    }

    private func flush() throws(OutputFileError) {
        let failed = buffer.withUnsafeBytes { Self.writeAll(fd, $0) }
        if failed != 0 { throw OutputFileError(path, "cannot write: \(Self.reason(failed))") }
        buffer.removeAll(keepingCapacity: true)
    }

    /// All of `bytes` to `fd`, continuing partial writes and EINTR; 0, or the errno that stopped it.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n > 0 { offset += n } else if n < 0 && errno == EINTR { continue } else { return n < 0 ? errno : EIO }
        }
        return 0
    }

    /// `mkdir -p`: every missing directory of `path`, 0777 less the umask; an existing directory
    /// is fine, anything else in the way is an error naming it.
    public static func makeDirectory(_ path: String) throws(OutputFileError) {
        var prefix = ""
        for part in path.split(separator: "/", omittingEmptySubsequences: false) {
            prefix += prefix.isEmpty && path.hasPrefix("/") && part.isEmpty
                ? "/" : (prefix.isEmpty || prefix == "/" ? "" : "/") + part
            if part.isEmpty { continue }
            if mkdir(prefix, 0o777) != 0 && errno != EEXIST {
                throw OutputFileError(path, "cannot create the directory '\(prefix)': \(reason(errno))")
            }
        }
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw OutputFileError(path, "exists and is not a directory")
        }
    }

    // MARK: - What a name points at

    enum Target: Equatable {
        /// An open descriptor of this process (`/dev/stdout`, `/dev/fd/3`).
        case descriptor(Int32)
        /// A character device or FIFO: opened and written as it is.
        case inPlace
        /// A regular file (at this real path, keeping this mode) or a new name: replaced atomically.
        case replace(String, mode: mode_t?)
    }

    static func resolve(_ path: String) throws(OutputFileError) -> Target {
        if path.isEmpty { throw OutputFileError(path, "empty path") }
        if let fd = descriptorName(path) { return .descriptor(fd) }
        var link = stat()
        guard lstat(path, &link) == 0 else {
            let error = errno
            guard error == ENOENT else { throw OutputFileError(path, "cannot write: \(reason(error))") }
            let dir = directory(of: path)
            var d = stat()
            if !dir.isEmpty && (stat(dir, &d) != 0 || d.st_mode & S_IFMT != S_IFDIR) {
                throw OutputFileError(path, "no such directory '\(dir)'")
            }
            return .replace(path, mode: nil)
        }
        var info = link
        var real = path
        if link.st_mode & S_IFMT == S_IFLNK {
            guard stat(path, &info) == 0 else {
                throw OutputFileError(path, "is a symbolic link to a missing or unreachable target (\(reason(errno))): "
                                      + "not replacing the link")
            }
            guard let resolved = realPath(path) else { throw OutputFileError(path, "cannot resolve the symbolic link") }
            real = resolved
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .replace(real, mode: info.st_mode & 0o7777)
        case S_IFCHR, S_IFIFO: return .inPlace
        case S_IFDIR: throw OutputFileError(path, "is a directory")
        case S_IFSOCK: throw OutputFileError(path, "is a socket, not a file")
        case S_IFBLK: throw OutputFileError(path, "is a block device: refusing to write over a disk")
        default: throw OutputFileError(path, "is not a regular file")
        }
    }

    /// The descriptor a name stands for: /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N.
    /// Written through the open descriptor, so a redirected stdout is appended to, not reopened
    /// (reopening would truncate a file that already holds this run's beats).
    public static func descriptorName(_ path: String) -> Int32? {
        switch path {
        case "/dev/stdout": return STDOUT_FILENO
        case "/dev/stderr": return STDERR_FILENO
        default:
            for prefix in ["/dev/fd/", "/proc/self/fd/"] where path.hasPrefix(prefix) {
                if let n = Int32(path.dropFirst(prefix.count)), n >= 0, fcntl(n, F_GETFD) >= 0 { return n }
            }
            return nil
        }
    }

    private static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func name(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    static func reason(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// A new file beside `real`, with a random name that no one else uses (O_EXCL).
    private static func createTemporary(beside real: String, path: String) throws(OutputFileError) -> (String, Int32) {
        let dir = directory(of: real)
        let prefix = (dir.isEmpty ? "" : (dir == "/" ? "/" : dir + "/")) + ".\(name(of: real)).tactus-"
        for _ in 0..<100 {
            let candidate = prefix + String(UInt64.random(in: 0...UInt64.max), radix: 36)
            let fd = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o666)
            if fd >= 0 { return (candidate, fd) }
            if errno != EEXIST {
                throw OutputFileError(path, "cannot create a file in '\(dir.isEmpty ? "." : dir)': \(reason(errno))")
            }
        }
        throw OutputFileError(path, "cannot create a temporary file in '\(dir.isEmpty ? "." : dir)'")
    }
}

public struct OutputFileError: Error, Equatable, CustomStringConvertible {
    public let path: String
    public let message: String
    public init(_ path: String, _ message: String) {
        self.path = path
        self.message = message
    }
    public var description: String { "\(path): \(message)" }
}
