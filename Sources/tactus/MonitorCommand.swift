import ArgumentParser
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
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in socket.utf8.prefix(raw.count - 1).enumerated() { raw[i] = b }
        }
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard ok == 0 else {
            Console.error("\(socket): cannot connect: \(String(cString: strerror(errno)))"
                          + " (is `tactus run` running with output.jsonl_socket set?)")
            throw ExitCode(1)
        }
        var tv = timeval(tv_sec: 0, tv_usec: 30_000)  // redraw at least 30 times a second (the phase dot)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let start = MonotonicClock.nanos()
        // The view parses and checks what the daemon sends (TactusIO/Monitor); this loop only
        // moves bytes from the socket and text to the terminal.
        var view = MonitorView()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while duration.map({ Double(MonotonicClock.nanos() - start) / 1e9 < $0 }) ?? true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n == 0 { Console.error("the daemon closed the connection"); break }
            if n > 0 { view.ingest(buffer[0..<n]) }
            // Notices scroll above the status line, which is redrawn in place.
            for notice in view.takeNotices() { Console.write("\u{1B}[2K\(notice)\n", to: STDOUT_FILENO) }
            Console.write(view.render() + "\r", to: STDOUT_FILENO)
        }
        close(fd)
        print("")
    }
}
