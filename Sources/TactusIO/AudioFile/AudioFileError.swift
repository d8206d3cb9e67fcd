/// Why an audio file could not be read; the message always names the file.
public struct AudioFileError: Error, Equatable, CustomStringConvertible {
    public enum Reason: Equatable, Sendable {
        case notFound
        case notReadable(String)
        case unsupportedFormat(String)
        case empty
        case truncated(String)
        case readFailed(String)
        case resampler(String)
    }

    public let path: String
    public let reason: Reason

    public init(path: String, reason: Reason) {
        self.path = path
        self.reason = reason
    }

    public var description: String {
        switch reason {
        case .notFound: return "\(path): no such file"
        case .notReadable(let why): return "\(path): cannot open: \(why)"
        case .unsupportedFormat(let why): return "\(path): not a readable audio file: \(why)"
        case .empty: return "\(path): the file holds no audio samples"
        case .truncated(let detail): return "\(path): truncated: \(detail)"
        case .readFailed(let why): return "\(path): read error: \(why)"
        case .resampler(let why): return "\(path): resampler error: \(why)"
        }
    }
}
