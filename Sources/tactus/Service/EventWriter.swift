import Atomics
import Glibc
import Synchronization
import TactusCore
import TactusIO
import TactusWeb

/// The output thread: reads beats from the processing thread's queue (never making it wait),
/// makes their JSON lines once (docs/events.md plus host times), and hands beats, notices,
/// command outcomes and the status object to every sink (`EventSink`: OSC targets, MIDI clock,
/// the socket, JSON-line UDP, stdout). It keeps what is common to all of them: the latency and
/// late-beat counts, the `tempo` notices, and the sinks a reload replaces.
final class EventWriter: @unchecked Sendable {
    let events: SPSCRing<DaemonEvent>
    let wait: (Double) -> Void
    private(set) var sinks: [any EventSink]
    let notices: NoticeBoard
    /// The socket, for acks to one client (its sink writes the lines).
    var socket: LineSocketServer?
    /// Operator commands: outcomes to report, and the server that answers OSC senders.
    var controlInbox: ControlInbox?
    var controlServer: ControlServer?
    /// The web page's clients, for acks to one page or API call.
    var webHub: WebHub?
    /// Logs what a command did (notice level).
    var logControl: (String) -> Void = { _ in }
    /// The status object (JSON) sent to sinks that serve it every `statusInterval` s.
    var status: (() -> String)?
    var statusInterval = 0.25
    private var lastStatus: Int64 = 0
    let written = UnsafeAtomic<Int>.create(0)
    /// Predicted beats that left with less than emission.lead to go (BeatEvent.late).
    let lateBeats = UnsafeAtomic<Int>.create(0)
    /// Capture-to-event latencies (ms) over the run, for the statistics (read after `run` returned).
    private let latencyValues = QuantileHistogram(lowest: 0.001, highest: 1e5)
    /// Set (releasing) when `run` returned.
    private let finished = UnsafeAtomic<Bool>.create(false)

    init(events: SPSCRing<DaemonEvent>, sinks: [any EventSink], notices: NoticeBoard,
         wait: @escaping (Double) -> Void) {
        self.events = events
        self.sinks = sinks.sorted { $0.order < $1.order }
        self.notices = notices
        self.wait = wait
    }

    deinit { written.destroy(); finished.destroy(); lateBeats.destroy() }

    /// The latencies, once `run` has returned; nil while it runs.
    func finishedLatencies() -> QuantileHistogram? { finished.load(ordering: .acquiring) ? latencyValues : nil }

    /// Queues a notice line; the output thread writes it with the next batch (within 0.2 s).
    func post(_ notice: DaemonNotice) { notices.post(notice) }

    /// Output errors of every sink so far.
    var outputErrors: Int { sinks.reduce(0) { $0 + $1.errors } }

    // MARK: - Sinks replaced by a reload

    /// Sinks made on the main thread and used only by the output thread once handed over.
    private struct Handover: @unchecked Sendable { var sinks: [any EventSink] }
    private let pendingSinks = Mutex<Handover?>(nil)

    /// Main thread: hands the sinks a reload rebuilt (OSC targets, JSON-line UDP, stdout) to the
    /// output thread, which swaps them in before its next batch.
    func replaceReloadable(with new: [any EventSink]) { pendingSinks.withLock { $0 = Handover(sinks: new) } }

    /// Output thread: the old reloadable sinks send what they hold (QLC+ button-up) and go.
    private func takeReplacedSinks() {
        let handover: Handover? = pendingSinks.withLock { s in
            let taken = s
            s = nil
            return taken
        }
        guard let new = handover?.sinks else { return }
        for s in sinks where s.reloadable { s.finish() }
        sinks = (sinks.filter { !$0.reloadable } + new).sorted { $0.order < $1.order }
    }

    // MARK: - The loop

    private var reportedTempo = 0.0

    /// A `tempo` notice when the beats' tempo moved by 1 BPM or more since the last one.
    private func reportTempoChange(_ tempo: Double) {
        guard abs(tempo - reportedTempo) >= 1 else { return }
        let previous = reportedTempo
        reportedTempo = tempo
        post(DaemonNotice(kind: "tempo", message: String(cFormat: "tempo %.1f BPM", tempo),
                          fields: [("tempo", String(cFormat: "%.2f", tempo)),
                                   ("previous", String(cFormat: "%.2f", previous))]))
    }

    /// Work the sinks have due; the next time one wants to run (ns), if any.
    private func serviceSinks() -> Int64? {
        let now = MonotonicClock.nanos()
        var next: Int64?
        for s in sinks { if let t = s.service(now: now) { next = min(next ?? t, t) } }
        if let status, sinks.contains(where: \.wantsStatus), Double(now - lastStatus) >= statusInterval * 1e9 {
            lastStatus = now
            let line = status()
            for s in sinks where s.wantsStatus { s.status(line) }
        }
        return next
    }

    private func writeLines(_ text: String) {
        guard !text.isEmpty else { return }
        for s in sinks { s.lines(text) }
    }

    /// Seconds to add to a CLOCK_MONOTONIC time to get Unix (wall-clock) time, for timetags.
    static func monotonicToUnix() -> Double {
        var mono = timespec(), real = timespec()
        clock_gettime(CLOCK_MONOTONIC, &mono)
        clock_gettime(CLOCK_REALTIME, &real)
        return Double(real.tv_sec - mono.tv_sec) + Double(real.tv_nsec - mono.tv_nsec) / 1e9
    }

    func run(stop: UnsafeAtomic<Bool>) {
        var batch = [DaemonEvent](repeating: .empty, count: 64)
        while true {
            takeReplacedSinks()
            let n = batch.withUnsafeMutableBufferPointer { events.read(into: $0) }
            let due = serviceSinks()
            reportControlOutcomes()
            writeLines(notices.take())
            if n == 0 {
                if stop.load(ordering: .relaxed) {
                    for s in sinks { s.finish() }
                    writeLines(notices.take())
                    finished.store(true, ordering: .releasing)
                    return
                }
                let next = due.map { Double($0 - MonotonicClock.nanos()) / 1e9 } ?? 0.2
                wait(min(max(next, 0.001), 0.2))
                continue
            }
            var text = ""
            for d in batch[0..<n] {
                reportTempoChange(d.event.tempo)
                text += d.event.jsonLine(hostTime: Double(d.beatHostNanos) / 1e9, seq: d.seq)
                // From the frame's newest sample to this thread sending it on.
                latencyValues.record(Double(MonotonicClock.nanos() - d.captureNanos) / 1e6)
                if d.event.late { lateBeats.wrappingIncrement(ordering: .relaxed) }
            }
            // In the sinks' order: OSC first (the time-critical output); stdout may be a slow pipe.
            let toUnix = Self.monotonicToUnix()
            for s in sinks { s.beats(batch[0..<n], lines: text, toUnix: toUnix) }
            written.wrappingIncrement(by: n, ordering: .relaxed)
        }
    }
}
