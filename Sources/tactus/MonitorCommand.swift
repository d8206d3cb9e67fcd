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
        let fd: Int32
        do { fd = try ControlClient.connectUnix(socket) } catch {
            Console.error("\(error.message) (is `tactus run` running with output.jsonl_socket set?)")
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
