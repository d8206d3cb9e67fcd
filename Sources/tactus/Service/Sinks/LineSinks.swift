import Glibc
import TactusIO

/// JSON lines on stdout, one write per batch; a slow reader blocks only the output thread (the
/// queue in front of it drops and counts). Failed writes (a full disk, a reader gone) are
/// counted and reported once when they start and once when they stop; every batch is tried again.
final class StdoutSink: EventSink {
    private let reports: SinkReports
    private var failing: Int32 = 0
    private(set) var errors = 0
    var reloadable: Bool { true }
    var order: Int { 4 }
    var name: String { "stdout" }

    init(reports: SinkReports) { self.reports = reports }

    func beats(_ batch: ArraySlice<DaemonEvent>, lines: String, toUnix: Double) { write(lines) }
    func lines(_ text: String) { write(text) }

    private func write(_ text: String) {
        guard !text.isEmpty else { return }
        let failed = Console.writeChecked(text, to: STDOUT_FILENO)
        if failed != 0 {
            errors += 1
            guard failed != failing else { return }
            failing = failed
            let why = String(cString: strerror(failed))
            reports.report("stdout: cannot write: \(why); JSON lines to stdout are lost until it recovers",
                           DaemonNotice(kind: "output_error", message: "stdout: \(why)",
                                        fields: [("target", "\"stdout\""), ("error", DaemonNotice.quoted(why))]))
        } else if failing != 0 {
            failing = 0
            reports.report("stdout: writing again",
                           DaemonNotice(kind: "output_recovered", message: "stdout: writing again",
                                        fields: [("target", "\"stdout\"")]))
        }
    }
}

/// JSON lines and the status object on the daemon's UNIX socket (`tactus monitor`, scripts).
final class SocketSink: EventSink {
    let server: LineSocketServer
    var wantsStatus: Bool { true }
    var order: Int { 2 }
    var name: String { "socket" }

    init(_ server: LineSocketServer) { self.server = server }

    func beats(_ batch: ArraySlice<DaemonEvent>, lines: String, toUnix: Double) { server.write(lines) }
    func lines(_ text: String) { if !text.isEmpty { server.write(text) } }
    func status(_ line: String) { server.write(line + "\n") }
}

/// JSON lines and the status object as UDP datagrams, one object each (`output.jsonl_udp`).
final class UDPLineSink: EventSink {
    let sender: UDPSender
    var wantsStatus: Bool { true }
    var reloadable: Bool { true }
    var order: Int { 3 }
    var errors: Int { sender.errors }
    var name: String { "udp \(sender.target)" }

    init(_ sender: UDPSender) { self.sender = sender }

    func beats(_ batch: ArraySlice<DaemonEvent>, lines: String, toUnix: Double) { self.lines(lines) }
    func lines(_ text: String) { for line in text.split(separator: "\n") { sender.send(Array(line.utf8)) } }
    func status(_ line: String) { sender.send(Array(line.utf8)) }
}

/// Every beat to the MIDI clock thread (an SPSC hand-off that never waits).
final class MIDISink: EventSink {
    let clock: MIDIClockOutput
    var order: Int { 1 }
    var name: String { "midi" }

    init(_ clock: MIDIClockOutput) { self.clock = clock }

    func beats(_ batch: ArraySlice<DaemonEvent>, lines: String, toUnix: Double) {
        for d in batch { clock.offer(d) }
    }
}
