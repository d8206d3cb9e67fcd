import Synchronization
import TactusIO

/// Notices waiting for the output thread (posted by the main thread, the control reporting and
/// the sinks), written with the next batch of lines.
final class NoticeBoard: Sendable {
    private let lines = Mutex<[String]>([])
    /// Stream time (s) of the newest processed sample, for the notices' `time`.
    private let streamTime: @Sendable () -> Double

    init(streamTime: @escaping @Sendable () -> Double) { self.streamTime = streamTime }

    func post(_ notice: DaemonNotice) {
        let line = notice.json(streamTime: streamTime(), hostNanos: MonotonicClock.nanos())
        lines.withLock { $0.append(line) }
    }

    /// Every notice posted since the last call, as JSON lines ("" when none).
    func take() -> String {
        lines.withLock { lines in
            guard !lines.isEmpty else { return "" }
            let text = lines.joined(separator: "\n") + "\n"
            lines.removeAll(keepingCapacity: true)
            return text
        }
    }
}
