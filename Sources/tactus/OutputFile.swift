import Glibc

/// Writes a whole file with POSIX calls, so a failure says why in the system's words
/// ("No such file or directory"), not as a Foundation error code.
enum OutputFile {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func write(_ bytes: [UInt8], to path: String) throws(Failure) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure(description: String(cString: strerror(errno))) }
        defer { close(fd) }
        let failed = bytes.withUnsafeBytes { writeAll(fd, $0) }
        if failed != 0 { throw Failure(description: String(cString: strerror(failed))) }
    }

    /// All of `bytes` to `fd`, continuing partial writes and EINTR; 0, or the errno that stopped it.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n > 0 { offset += n } else if n < 0 && errno == EINTR { continue } else { return n < 0 ? errno : EIO }
        }
        return 0
    }
}
