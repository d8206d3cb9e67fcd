import TactusIO

/// One output of the daemon (DESIGN.md, "Events"): the output thread hands every sink the same
/// beats and lines, in order; each sink fails alone (it counts and reports its errors, never
/// waits, never stops the others). Sinks run on the output thread only.
protocol EventSink: AnyObject {
    /// Beats just read from the processing thread, in order, with their JSON lines.
    /// `toUnix`: seconds to add to a CLOCK_MONOTONIC time for Unix time (timetags).
    func beats(_ batch: ArraySlice<DaemonEvent>, lines: String, toUnix: Double)
    /// Notice and ack lines (line outputs write them; others ignore them).
    func lines(_ text: String)
    /// The status object (without newline), for outputs that serve it (`wantsStatus`).
    func status(_ line: String)
    var wantsStatus: Bool { get }
    /// Work due by `now` (CLOCK_MONOTONIC ns): held packets, phase messages. Returns when it
    /// next has work, or nil.
    func service(now: Int64) -> Int64?
    /// The daemon stops or a reload replaces this sink: what it holds goes now.
    func finish()
    /// Failed sends and writes so far.
    var errors: Int { get }
    /// Whether a SIGHUP reload replaces this sink (OSC targets, JSON-line UDP, stdout).
    var reloadable: Bool { get }
    /// Lower first: the time-critical outputs (OSC, MIDI) before the line outputs.
    var order: Int { get }
    /// The sink's name in metrics and on the page ("osc 192.168.1.20:7700", "stdout").
    var name: String { get }
}

extension EventSink {
    func beats(_ batch: ArraySlice<DaemonEvent>, lines: String, toUnix: Double) {}
    func lines(_ text: String) {}
    func status(_ line: String) {}
    var wantsStatus: Bool { false }
    func service(now: Int64) -> Int64? { nil }
    func finish() {}
    var errors: Int { 0 }
    var reloadable: Bool { false }
}

/// What a sink tells the daemon when it starts or stops failing: a log line (once per change)
/// and the same as a notice on the line outputs.
struct SinkReports: Sendable {
    var log: @Sendable (String) -> Void
    var notices: NoticeBoard

    func report(_ message: String, _ notice: DaemonNotice) {
        log(message)
        notices.post(notice)
    }
}
