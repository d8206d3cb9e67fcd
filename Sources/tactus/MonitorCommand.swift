import ArgumentParser
import FoundationEssentials
import Glibc
import TactusIO

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
        let start = MonotonicClock.nanos()
        var pending: [UInt8] = []
        var view = MonitorView()
        var buffer = [UInt8](repeating: 0, count: 4096)
        let decoder = JSONDecoder()
        while duration.map({ Double(MonotonicClock.nanos() - start) / 1e9 < $0 }) ?? true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n == 0 { Console.error("the daemon closed the connection"); break }
            if n > 0 { pending.append(contentsOf: buffer[0..<n]) }
            while let newline = pending.firstIndex(of: 10) {
                let line = Data(pending[..<newline])
                pending.removeSubrange(...newline)
                if let event = try? decoder.decode(MonitorEvent.self, from: line) { view.update(event) }
            }
            // Notices scroll above the status line, which is redrawn in place.
            for notice in view.takeNotices() { Console.write("\u{1B}[2K\(notice)\n", to: STDOUT_FILENO) }
            Console.write(view.render() + "\r", to: STDOUT_FILENO)
        }
        close(fd)
        print("")
    }
}

/// The fields of a JSON line (docs/events.md) the monitor shows; absent ones stay nil.
struct MonitorEvent: Decodable {
    var event: String?
    var predicted: Bool?
    var tempo: Double?
    var confidence: Double?
    var beats: Int?
    var xruns: Int?
    var dropped: Int?
    var kind: String?
    var message: String?
    var time: Double?
}

/// The one-line display, redrawn in place.
struct MonitorView {
    var tempo = 0.0, confidence = 0.0, beats = 0, xruns = 0, dropped = 0
    /// CLOCK_MONOTONIC ns of the last beat line (long ago at start).
    var lastBeat = Int64.min / 2
    var lastPredicted = false
    /// From lock/unlock notices; nil until the first (then the confidence decides).
    var locked: Bool?
    private var notices: [String] = []

    mutating func takeNotices() -> [String] {
        defer { notices.removeAll() }
        return notices
    }

    mutating func update(_ e: MonitorEvent) {
        switch e.event {
        case "beat":
            lastBeat = MonotonicClock.nanos()
            lastPredicted = e.predicted ?? false
            tempo = e.tempo ?? tempo
        case "status":
            tempo = e.tempo ?? tempo
            confidence = e.confidence ?? confidence
            beats = e.beats ?? beats
            xruns = e.xruns ?? xruns
            dropped = e.dropped ?? dropped
        case "notice" where e.kind == "lock" || e.kind == "unlock":
            locked = e.kind == "lock"
            fallthrough
        case "notice":
            notices.append(String(cFormat: "%9.2f s  ", e.time ?? 0) + "\(e.kind ?? "?"): \(e.message ?? "")")
        default: break
        }
    }

    func render() -> String {
        let sinceBeat = Double(MonotonicClock.nanos() - lastBeat) / 1e9
        let flash = sinceBeat < 0.12 ? (lastPredicted ? "\u{1B}[42m BEAT \u{1B}[0m" : "\u{1B}[43m beat \u{1B}[0m") : "      "
        let full = min(20, max(0, Int((confidence * 20).rounded())))
        let bar = String(repeating: "█", count: full) + String(repeating: "·", count: 20 - full)
        let lock = (locked ?? (confidence >= 0.3)) ? "locked  " : "unlocked"
        // Beat phase, extrapolated from the last beat at the tempo: a dot moving over 8 cells.
        let beats = tempo > 0 ? sinceBeat * tempo / 60 : 0
        let cell = Int((beats - beats.rounded(FloatingPointRoundingRule.down)) * 8)
        let phase = (0..<8).map { $0 == cell ? "●" : "·" }.joined()
        return flash + String(cFormat: " %6.1f BPM  phase ", tempo) + phase + "  confidence " + bar
            + String(cFormat: " %.2f  ", confidence) + lock
            + String(cFormat: "  beats %d  xruns %d  dropped %d   ", self.beats, xruns, dropped)
    }
}
