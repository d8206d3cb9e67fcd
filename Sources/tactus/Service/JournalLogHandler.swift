import Glibc
import TactusCore
import TactusIO
import Logging
import Synchronization

/// One line per message on stderr, prefixed with the syslog priority (`<6>`) that journald reads,
/// so `journalctl -p warning` works. A message repeated within `window` seconds is held back and
/// summarised ("repeated N times") when it changes or the window ends. Never used on the capture
/// or per-hop paths.
struct JournalLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    let label: String
    static let window = 10.0

    private struct Repeat {
        var text = ""
        var since = -Double.infinity
        var count = 0
    }

    private static let last = Mutex(Repeat())

    init(label: String, level: Logger.Level) {
        self.label = label
        logLevel = level
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }

    func log(event: LogEvent) {
        let text = "<\(Self.priority(event.level))>\(label): \(event.message)"
        let now = MonotonicClock.seconds()
        let lines: [String] = Self.last.withLock { r in
            if r.text == text && now - r.since < Self.window {
                r.count += 1
                return []
            }
            var out: [String] = []
            if r.count > 0 { out.append("\(r.text) (repeated \(r.count) more times)") }
            r = Repeat(text: text, since: now, count: 0)
            out.append(text)
            return out
        }
        for line in lines { Console.write(line + "\n", to: STDERR_FILENO) }
    }
}

extension Logger.Level {
    init(_ level: ServiceConfig.LogLevel) {
        switch level {
        case .debug: self = .debug
        case .info: self = .info
        case .notice: self = .notice
        case .warning: self = .warning
        case .error: self = .error
        }
    }
}
