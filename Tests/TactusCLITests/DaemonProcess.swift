import Foundation

/// `tactus run` on a test workspace's file source, started and waited for ("running:"), its
/// stdout kept for `finish`. The suites that drive a daemon add their own `--set`s and read the
/// ports it bound from its log.
struct DaemonProcess {
    let process: Process
    let log: LogWaiter
    let out: Pipe
    var port = 0
    var socket = ""

    static func start(_ ws: TestWorkspace, _ arguments: [String]) throws -> DaemonProcess {
        let p = Process()
        p.executableURL = TrackCommandTests.binary
        p.arguments = ["run", "--set", "capture.source=file", "--set", "capture.file=\(ws.wav)",
                       "--set", "capture.realtime_priority=0"] + arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let log = LogWaiter(err, process: p, timeout: 300)
        log.waitFor("running:")
        return DaemonProcess(process: p, log: log, out: out)
    }

    /// Every JSON line of stdout and the log, once the daemon has stopped.
    func finish() -> (lines: [[String: Any]], stderr: String) {
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = log.finish()
        process.waitUntilExit()
        let lines = String(decoding: o, as: UTF8.self).split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        return (lines, e)
    }
}
