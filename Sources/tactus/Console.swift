import Foundation

/// Messages for a person at a terminal, on stderr.
enum Console {
    static func note(_ message: String) { FileHandle.standardError.write(Data("tactus: \(message)\n".utf8)) }
    static func error(_ message: String) { FileHandle.standardError.write(Data("tactus: error: \(message)\n".utf8)) }
}
