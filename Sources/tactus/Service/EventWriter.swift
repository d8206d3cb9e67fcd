import Atomics
import Glibc
import Synchronization
import TactusCore
import TactusIO

/// The output thread: JSON lines on stdout (docs/events.md plus host times), one write per event;
/// a slow reader blocks only this thread (the queue in front of it drops and counts).
final class EventWriter: @unchecked Sendable {
    let events: SPSCRing<DaemonEvent>
    let wait: (Double) -> Void
    private(set) var osc: [UDPSender]
    private var schemas: [OSCSchema]
    /// Datagrams waiting for their time (QLC+ releases, targets with their own lead):
    /// (CLOCK_MONOTONIC ns, target, datagram).
    private var releases: [(due: Int64, target: Int, bytes: [UInt8])] = []
    /// Called (on this thread) when a target starts or stops failing: logged once per change.
    let report: (String) -> Void
    /// Notices waiting to be written (posted by the main thread or this one).
    private let notices = Mutex<[String]>([])
    /// Stream time (s) of the newest processed sample, for notices.
    var streamTime: () -> Double = { 0 }
    /// JSON lines also go to these: stdout, a UNIX socket for `tactus monitor`, a UDP target.
    var toStdout = true
    var socket: LineSocketServer?
    /// The MIDI clock thread, handed every beat.
    var midi: MIDIClockOutput?
    /// Operator commands: outcomes to report, and the server that answers OSC senders.
    var controlInbox: ControlInbox?
    var controlServer: ControlServer?
    /// Logs what a command did (notice level).
    var logControl: (String) -> Void = { _ in }
    var jsonUDP: UDPSender?
    /// A status line (JSON object) sent to the socket and UDP every `statusInterval` s.
    var status: (() -> String)?
    var statusInterval = 0.25
    private var lastStatus: Int64 = 0
    let written = UnsafeAtomic<Int>.create(0)
    /// Predicted beats that left with less than emission.lead to go (BeatEvent.late).
    let lateBeats = UnsafeAtomic<Int>.create(0)
    /// Capture-to-event latencies (ms) over the run, for the statistics (read after `run` returned).
    private let latencyValues = QuantileHistogram(lowest: 0.001, highest: 1e5)

    init(events: SPSCRing<DaemonEvent>, osc: [(UDPSender, OSCSchema)] = [],
         report: @escaping (String) -> Void = { _ in }, wait: @escaping (Double) -> Void) {
        self.events = events
        self.osc = osc.map(\.0)
        schemas = osc.map(\.1)
        self.report = report
        self.wait = wait
    }

    deinit { written.destroy(); finished.destroy(); stdoutErrors.destroy(); lateBeats.destroy() }

    /// Set (releasing) when `run` returned.
    private let finished = UnsafeAtomic<Bool>.create(false)

    /// The latencies, once `run` has returned; nil while it runs.
    func finishedLatencies() -> QuantileHistogram? { finished.load(ordering: .acquiring) ? latencyValues : nil }

    /// Queues a notice line; the output thread writes it with the next batch (within 0.2 s).
    func post(_ notice: DaemonNotice) {
        let line = notice.json(streamTime: streamTime(), hostNanos: MonotonicClock.nanos())
        notices.withLock { $0.append(line) }
    }

    private func takeNotices() -> String {
        notices.withLock { notices in
            guard !notices.isEmpty else { return "" }
            let text = notices.joined(separator: "\n") + "\n"
            notices.removeAll(keepingCapacity: true)
            return text
        }
    }

    /// Per OSC target: whether it is failing, with which errno, and when a send last failed.
    private var failing: [(active: Bool, error: Int32, last: Int64)] = []
    /// A failing target counts as recovered after this long without a failed send: a refusing
    /// port alternates success and ECONNREFUSED (the ICMP answer fails the next send), which
    /// must not log a line per beat.
    static let recoverAfterNanos: Int64 = 5_000_000_000

    /// Sends to OSC target `i`; logs and posts a notice when it starts failing, fails with
    /// another error, or has recovered.
    private func send(_ bytes: [UInt8], to i: Int) {
        let target = osc[i]
        if failing.count != osc.count { failing = Array(repeating: (false, 0, 0), count: osc.count) }
        let ok = target.send(bytes)
        let now = MonotonicClock.nanos()
        let name = DaemonNotice.quoted(target.target)
        if !ok {
            let error = target.lastError
            failing[i].last = now
            guard !failing[i].active || failing[i].error != error else { return }
            failing[i].active = true
            failing[i].error = error
            let why = target.failureReason
            let message = "OSC \(target.target): \(why); beats to it are dropped until it recovers"
            report(message)
            post(DaemonNotice(kind: "output_error", message: message, fields: [("target", name), ("error", DaemonNotice.quoted(why))]))
        } else if failing[i].active && now - failing[i].last >= Self.recoverAfterNanos {
            failing[i].active = false
            let message = "OSC \(target.target): sending again"
            report(message)
            post(DaemonNotice(kind: "output_recovered", message: message, fields: [("target", name)]))
        }
    }

    private var reportedTempo = 0.0

    /// A `tempo` notice when the beats' tempo moved by 1 BPM or more since the last one.
    private func reportTempoChange(_ tempo: Double) {
        guard abs(tempo - reportedTempo) >= 1 else { return }
        let previous = reportedTempo
        reportedTempo = tempo
        post(DaemonNotice(kind: "tempo", message: String(cFormat: "tempo %.1f BPM", tempo),
                          fields: [("tempo", String(cFormat: "%.2f", tempo)), ("previous", String(cFormat: "%.2f", previous))]))
    }

    /// Writes a block of JSON lines to every line output.
    private func writeLines(_ text: String) {
        guard !text.isEmpty else { return }
        socket?.write(text)
        if let jsonUDP { for line in text.split(separator: "\n") { jsonUDP.send(Array(line.utf8)) } }
        if toStdout { writeStdout(text) }
    }

    /// Failed writes to stdout (a full disk, a reader that went away), counted; logged once
    /// when they start and once when they stop. Every block is tried again: the daemon runs on.
    let stdoutErrors = UnsafeAtomic<Int>.create(0)
    private var stdoutFailing: Int32 = 0

    private func writeStdout(_ text: String) {
        let failed = Console.writeChecked(text, to: STDOUT_FILENO)
        if failed != 0 {
            stdoutErrors.wrappingIncrement(ordering: .relaxed)
            guard failed != stdoutFailing else { return }
            stdoutFailing = failed
            let why = String(cString: strerror(failed))
            report("stdout: cannot write: \(why); JSON lines to stdout are lost until it recovers")
            post(DaemonNotice(kind: "output_error", message: "stdout: \(why)",
                              fields: [("target", "\"stdout\""), ("error", DaemonNotice.quoted(why))]))
        } else if stdoutFailing != 0 {
            stdoutFailing = 0
            report("stdout: writing again")
            post(DaemonNotice(kind: "output_recovered", message: "stdout: writing again", fields: [("target", "\"stdout\"")]))
        }
    }

    /// Output errors of every sink so far: OSC targets, JSON-line UDP, stdout.
    var outputErrors: Int {
        osc.reduce(0) { $0 + $1.errors } + (jsonUDP?.errors ?? 0) + stdoutErrors.load(ordering: .relaxed)
    }

    // MARK: - Outputs replaced by a reload

    /// The outputs a SIGHUP reload can change while the daemon runs.
    struct LiveOutputs: @unchecked Sendable {
        var osc: [(UDPSender, OSCSchema)]
        var jsonUDP: UDPSender?
        var toStdout: Bool
        var phaseRate: Double
    }

    private let pendingOutputs = Mutex<LiveOutputs?>(nil)

    /// Main thread: hands new outputs to the output thread, which takes them before its next batch.
    func replaceOutputs(_ outputs: LiveOutputs) { pendingOutputs.withLock { $0 = outputs } }

    /// Output thread: swaps in replaced outputs. Releases still held for the old targets (QLC+
    /// button-up) are sent now, so that no button stays down.
    private func takeReplacedOutputs() {
        guard let new = pendingOutputs.withLock({ o in defer { o = nil }; return o }) else { return }
        for r in releases { send(r.bytes, to: r.target) }
        releases.removeAll()
        osc = new.osc.map(\.0)
        schemas = new.osc.map(\.1)
        failing = []
        jsonUDP = new.jsonUDP
        toStdout = new.toStdout
        phaseRate = new.phaseRate
    }

    /// `/tactus/phase` to generic OSC targets this many times a second (0 = off).
    var phaseRate = 0.0
    private var lastPhase: Int64 = 0
    private var lastBeat: (hostNanos: Int64, tempo: Double)?

    private func sendPhaseIfDue() {
        guard phaseRate > 0, let beat = lastBeat, !osc.isEmpty else { return }
        let now = MonotonicClock.nanos()
        guard Double(now - lastPhase) >= 1e9 / phaseRate else { return }
        lastPhase = now
        let toUnix = Self.monotonicToUnix()
        for i in osc.indices {
            if let p = schemas[i].phasePacket(unixTime: Double(now) / 1e9 + toUnix,
                                              lastBeatUnixTime: Double(beat.hostNanos) / 1e9 + toUnix, tempo: beat.tempo) {
                send(p.encoded(), to: i)
            }
        }
    }

    private func sendStatusIfDue() {
        guard let status, socket != nil || jsonUDP != nil else { return }
        let now = MonotonicClock.nanos()
        guard Double(now - lastStatus) >= statusInterval * 1e9 else { return }
        lastStatus = now
        let line = status()
        socket?.write(line + "\n")
        jsonUDP?.send(Array(line.utf8))
    }

    private func sendDueReleases() {
        guard !releases.isEmpty else { return }
        let now = MonotonicClock.nanos()
        releases.removeAll { r in
            guard r.due <= now else { return false }
            send(r.bytes, to: r.target)
            return true
        }
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
            takeReplacedOutputs()
            let n = batch.withUnsafeMutableBufferPointer { events.read(into: $0) }
            sendDueReleases()
            sendStatusIfDue()
            sendPhaseIfDue()
            reportControlOutcomes()
            writeLines(takeNotices())
            if n == 0 {
                if stop.load(ordering: .relaxed) {
                    // Held packets go now, a little early, rather than never: every beat on the
                    // JSON lines reaches its OSC targets, and no QLC+ button stays down.
                    for r in releases.sorted(by: { $0.due < $1.due }) { send(r.bytes, to: r.target) }
                    releases.removeAll()
                    writeLines(takeNotices())
                    finished.store(true, ordering: .releasing)
                    return
                }
                var next = releases.map(\.due).min().map { Double($0 - MonotonicClock.nanos()) / 1e9 } ?? 0.2
                if phaseRate > 0 && lastBeat != nil { next = min(next, 1 / phaseRate) }
                wait(min(max(next, 0.001), 0.2))
                continue
            }
            var text = ""
            for d in batch[0..<n] {
                midi?.offer(d)
                // Phase messages extrapolate from beats that have sounded or are about to.
                lastBeat = (d.beatHostNanos, d.event.tempo)
                reportTempoChange(d.event.tempo)
                let e = d.event
                text += e.jsonLine(hostTime: Double(d.beatHostNanos) / 1e9, seq: d.seq)
                // From the frame's newest sample to this thread sending it on.
                latencyValues.record(Double(MonotonicClock.nanos() - d.captureNanos) / 1e6)
                if e.late { lateBeats.wrappingIncrement(ordering: .relaxed) }
            }
            // OSC first: it is the time-critical output; stdout may be a slow pipe.
            if !osc.isEmpty {
                let toUnix = Self.monotonicToUnix()
                for d in batch[0..<n] {
                    for i in osc.indices {
                        let (now, later) = schemas[i].packets(for: d.event, beatUnixTime: Double(d.beatHostNanos) / 1e9 + toUnix)
                        let sentNow = MonotonicClock.nanos()
                        var pressed = sentNow
                        if let lead = schemas[i].lead, d.beatHostNanos - Int64(lead * 1e9) > sentNow {
                            // This target wants the beat `lead` before it: held until then.
                            pressed = d.beatHostNanos - Int64(lead * 1e9)
                            for p in now { releases.append((pressed, i, p.encoded())) }
                        } else {
                            for p in now { send(p.encoded(), to: i) }
                        }
                        // Released `release` after the beat as the receiver acts (sent its delay
                        // earlier), and never sooner than `release` after the press: a beat found
                        // after it sounded must still light for the whole button (QLC+ shows no
                        // flash when press and release fall into one tick of its engine).
                        let delay = schemas[i].preset.receiverDelay ?? 0
                        let release = Int64(schemas[i].release * 1e9)
                        let due = max(d.beatHostNanos + release - Int64(delay * 1e9), pressed + release)
                        for p in later { releases.append((due, i, p.encoded())) }
                    }
                }
            }
            writeLines(text)
            written.wrappingIncrement(by: n, ordering: .relaxed)
        }
    }
}
