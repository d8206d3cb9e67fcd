import Glibc

/// Messages for a person at a terminal, on stderr; raw text to stdout or stderr.
enum Console {
    static func note(_ message: String) { write("tactus: \(message)\n", to: STDERR_FILENO) }
    static func error(_ message: String) { write("tactus: error: \(message)\n", to: STDERR_FILENO) }

    /// All of `text` to a file descriptor, unbuffered (an error, such as a closed pipe, drops the
    /// rest: there is nobody left to tell).
    static func write(_ text: String, to fd: Int32) {
        var text = text
        _ = text.withUTF8 { OutputFile.writeAll(fd, UnsafeRawBufferPointer($0)) }
    }
}
