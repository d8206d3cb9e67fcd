import Glibc

/// Messages for a person at a terminal, on stderr; raw text to stdout or stderr.
enum Console {
    static func note(_ message: String) { write("tactus: \(message)\n", to: STDERR_FILENO) }
    static func error(_ message: String) { write("tactus: error: \(message)\n", to: STDERR_FILENO) }

    /// All of `text` to a file descriptor, unbuffered (a partial write is continued; an error,
    /// such as a closed pipe, drops the rest: there is nobody left to tell).
    static func write(_ text: String, to fd: Int32) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if n > 0 { offset += n } else if n < 0 && errno == EINTR { continue } else { return }
            }
        }
    }
}
