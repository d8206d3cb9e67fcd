import TactusCore
import TactusIO

/// One OSC target (`output.osc_targets`): its preset's packets per beat, held until the target's
/// send lead before the beat, QLC+'s button releases timed after it, `/tactus/phase` for generic
/// targets; a target that fails is reported once per change of state and never waits.
final class OSCTargetSink: EventSink {
    let sender: UDPSender
    private var schema: OSCSchema
    private let reports: SinkReports
    /// `/tactus/phase` this many times a second (generic targets; 0 = off).
    private let phaseRate: Double
    /// Datagrams waiting for their time (CLOCK_MONOTONIC ns): held presses, releases.
    private var held: [(due: Int64, bytes: [UInt8])] = []
    private var failing = (active: false, error: Int32(0), last: Int64(0))
    private var lastPhase: Int64 = 0
    private var lastBeat: (hostNanos: Int64, tempo: Double)?
    var reloadable: Bool { true }
    var order: Int { 0 }
    var errors: Int { sender.errors }
    var name: String { "osc \(sender.target)" }

    /// A failing target counts as recovered after this long without a failed send: a refusing
    /// port alternates success and ECONNREFUSED (the ICMP answer fails the next send), which
    /// must not log a line per beat.
    static let recoverAfterNanos: Int64 = 5_000_000_000

    init(sender: UDPSender, schema: OSCSchema, phaseRate: Double, reports: SinkReports) {
        self.sender = sender
        self.schema = schema
        self.phaseRate = phaseRate
        self.reports = reports
    }

    func beats(_ batch: ArraySlice<DaemonEvent>, lines: String, toUnix: Double) {
        for d in batch {
            // Phase messages extrapolate from beats that have sounded or are about to.
            lastBeat = (d.beatHostNanos, d.event.tempo)
            let (now, later) = schema.packets(for: d.event, beatUnixTime: Double(d.beatHostNanos) / 1e9 + toUnix)
            let sentNow = MonotonicClock.nanos()
            var pressed = sentNow
            if let lead = schema.lead, d.beatHostNanos - Int64(lead * 1e9) > sentNow {
                // This target wants the beat `lead` before it: held until then.
                pressed = d.beatHostNanos - Int64(lead * 1e9)
                for p in now { held.append((pressed, p.encoded())) }
            } else {
                for p in now { send(p.encoded()) }
            }
            // Released `release` after the beat as the receiver acts (sent its delay earlier),
            // and never sooner than `release` after the press: a beat found after it sounded must
            // still light for the whole button (QLC+ shows no flash when press and release fall
            // into one tick of its engine).
            let delay = schema.preset.receiverDelay ?? 0
            let release = Int64(schema.release * 1e9)
            let due = max(d.beatHostNanos + release - Int64(delay * 1e9), pressed + release)
            for p in later { held.append((due, p.encoded())) }
        }
    }

    func service(now: Int64) -> Int64? {
        if !held.isEmpty {
            held.removeAll { h in
                guard h.due <= now else { return false }
                send(h.bytes)
                return true
            }
        }
        var next = held.map(\.due).min()
        if phaseRate > 0, let beat = lastBeat {
            let period = Int64(1e9 / phaseRate)
            if now - lastPhase >= period {
                lastPhase = now
                let toUnix = EventWriter.monotonicToUnix()
                if let p = schema.phasePacket(unixTime: Double(now) / 1e9 + toUnix,
                                              lastBeatUnixTime: Double(beat.hostNanos) / 1e9 + toUnix,
                                              tempo: beat.tempo) {
                    send(p.encoded())
                }
            }
            next = min(next ?? .max, lastPhase + period)
        }
        return next
    }

    /// Held packets go now, a little early, rather than never: every beat on the JSON lines
    /// reaches the target, and no QLC+ button stays down.
    func finish() {
        for h in held.sorted(by: { $0.due < $1.due }) { send(h.bytes) }
        held.removeAll()
    }

    /// Sends; logs and posts a notice when the target starts failing, fails with another error,
    /// or has recovered.
    private func send(_ bytes: [UInt8]) {
        let ok = sender.send(bytes)
        let now = MonotonicClock.nanos()
        let name = DaemonNotice.quoted(sender.target)
        if !ok {
            let error = sender.lastError
            failing.last = now
            guard !failing.active || failing.error != error else { return }
            failing.active = true
            failing.error = error
            let why = sender.failureReason
            let message = "OSC \(sender.target): \(why); beats to it are dropped until it recovers"
            reports.report(message, DaemonNotice(kind: "output_error", message: message,
                                                 fields: [("target", name), ("error", DaemonNotice.quoted(why))]))
        } else if failing.active && now - failing.last >= Self.recoverAfterNanos {
            failing.active = false
            let message = "OSC \(sender.target): sending again"
            reports.report(message, DaemonNotice(kind: "output_recovered", message: message,
                                                 fields: [("target", name)]))
        }
    }
}
