import Foundation

/// A child process's output, read as it comes, so that a test acts once a line has been logged
/// instead of after a fixed delay: under a sanitizer on a loaded machine, a daemon's start or a
/// reload can take seconds. Reads end at EOF, so a watchdog that kills the child bounds each wait.
final class LogWaiter {
    private let handle: FileHandle
    private var data = Data()
    private let watchdog: DispatchWorkItem

    /// Kills `process` with SIGKILL if `finish()` has not been called within `timeout` seconds.
    init(_ pipe: Pipe, process: Process, timeout: Double = 60) {
        handle = pipe.fileHandleForReading
        let pid = process.processIdentifier
        watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
    }

    var text: String { String(decoding: data, as: UTF8.self) }

    /// Reads until `line` occurs `count` times (or EOF).
    func waitFor(_ line: String, count: Int = 1) {
        while text.components(separatedBy: line).count - 1 < count {
            let chunk = handle.availableData
            if chunk.isEmpty { return }
            data.append(chunk)
        }
    }

    /// Cancels the watchdog and reads the rest, to EOF.
    func finish() -> String {
        watchdog.cancel()
        data.append(handle.readDataToEndOfFile())
        return text
    }
}
