import ArgumentParser
import Foundation
import Glibc

/// A terminal view of the running daemon: tempo, confidence, a flash on each beat, counters.
struct MonitorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Watch the running daemon (its output.jsonl_socket): tempo, confidence, beats.")

    @Option(help: "The daemon's JSON-lines socket (output.jsonl_socket).")
    var socket: String = "/run/tactus/events.sock"

    @Option(help: "Stop after this many seconds (default: until interrupted).")
    var duration: Double?

    func run() throws {
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in socket.utf8.prefix(raw.count - 1).enumerated() { raw[i] = b } }
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard ok == 0 else {
            Console.error("\(socket): cannot connect: \(String(cString: strerror(errno))) (is `tactus run` running with output.jsonl_socket set?)")
            throw ExitCode(1)
        }
        var tv = timeval(tv_sec: 0, tv_usec: 30_000)  // redraw at least 30 times a second (the phase dot)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let start = Date()
        var pending = Data()
        var view = MonitorView()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while duration.map({ Date().timeIntervalSince(start) < $0 }) ?? true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n == 0 { Console.error("the daemon closed the connection"); break }
            if n > 0 { pending.append(contentsOf: buffer[0..<n]) }
            while let newline = pending.firstIndex(of: 10) {
                let line = pending[pending.startIndex..<newline]
                pending.removeSubrange(pending.startIndex...newline)
                if let o = try? JSONSerialization.jsonObject(with: line) as? [String: Any] { view.update(o) }
            }
            // Notices scroll above the status line, which is redrawn in place.
            for notice in view.takeNotices() { FileHandle.standardOutput.write(Data("\u{1B}[2K\(notice)\n".utf8)) }
            FileHandle.standardOutput.write(Data((view.render() + "\r").utf8))
        }
        close(fd)
        print("")
    }
}

/// The one-line display, redrawn in place.
struct MonitorView {
    var tempo = 0.0, confidence = 0.0, beats = 0, xruns = 0, dropped = 0
    var lastBeat = Date.distantPast
    var lastPredicted = false
    /// From lock/unlock notices; nil until the first (then the confidence decides).
    var locked: Bool?
    private var notices: [String] = []

    mutating func takeNotices() -> [String] {
        defer { notices.removeAll() }
        return notices
    }

    mutating func update(_ o: [String: Any]) {
        switch o["event"] as? String {
        case "beat":
            lastBeat = Date()
            lastPredicted = o["predicted"] as? Bool ?? false
            tempo = o["tempo"] as? Double ?? tempo
        case "status":
            tempo = o["tempo"] as? Double ?? tempo
            confidence = o["confidence"] as? Double ?? confidence
            beats = o["beats"] as? Int ?? beats
            xruns = o["xruns"] as? Int ?? xruns
            dropped = o["dropped"] as? Int ?? dropped
        case "notice" where o["kind"] as? String == "lock" || o["kind"] as? String == "unlock":
            locked = o["kind"] as? String == "lock"
            fallthrough
        case "notice":
            let time = o["time"] as? Double ?? 0
            notices.append(String(format: "%9.2f s  %@: %@", time, o["kind"] as? String ?? "?", o["message"] as? String ?? ""))
        default: break
        }
    }

    func render() -> String {
        let flash = Date().timeIntervalSince(lastBeat) < 0.12 ? (lastPredicted ? "\u{1B}[42m BEAT \u{1B}[0m" : "\u{1B}[43m beat \u{1B}[0m") : "      "
        let bar = String(repeating: "█", count: Int((confidence * 20).rounded())).padding(toLength: 20, withPad: "·", startingAt: 0)
        let lock = (locked ?? (confidence >= 0.3)) ? "locked  " : "unlocked"
        // Beat phase, extrapolated from the last beat at the tempo: a dot moving over 8 cells.
        let beats = tempo > 0 ? Date().timeIntervalSince(lastBeat) * tempo / 60 : 0
        let cell = Int((beats - beats.rounded(.down)) * 8)
        let phase = (0..<8).map { $0 == cell ? "●" : "·" }.joined()
        return String(format: "%@ %6.1f BPM  phase %@  confidence %@ %.2f  %@  beats %d  xruns %d  dropped %d   ",
                      flash, tempo, phase, bar, confidence, lock, self.beats, xruns, dropped)
    }
}
