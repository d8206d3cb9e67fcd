import Glibc
import TactusIO

/// Messages for a person at a terminal, on stderr; raw text to stdout or stderr.
enum Console {
    static func note(_ message: String) { write("tactus: \(message)\n", to: STDERR_FILENO) }
    static func error(_ message: String) { write("tactus: error: \(message)\n", to: STDERR_FILENO) }

    /// All of `text` to a file descriptor, unbuffered (an error, such as a closed pipe, drops the
    /// rest: there is nobody left to tell).
    static func write(_ text: String, to fd: Int32) {
        _ = writeChecked(text, to: fd)
    }

    /// All of `text` to a file descriptor; 0, or the errno that stopped it.
    static func writeChecked(_ text: String, to fd: Int32) -> Int32 {
        var text = text
        return text.withUTF8 { OutputFile.writeAll(fd, UnsafeRawBufferPointer($0)) }
    }

    /// A command's result on stdout, checked: a full disk or a closed pipe is an error, so the
    /// command does not exit 0 having written nothing (`tactus track x.wav > /dev/full`).
    static func output(_ text: String) throws(OutputFileError) {
        let failed = writeChecked(text, to: STDOUT_FILENO)
        if failed != 0 { throw OutputFileError("stdout", "cannot write: \(String(cString: strerror(failed)))") }
    }
}
