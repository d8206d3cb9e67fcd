import Atomics
import Glibc
import TactusCore
import TactusIO

/// The MIDI clock thread: predicted beats come in from the output thread (an SPSC ring, never
/// waiting), a `MIDIClockGenerator` turns them into 24 ticks per beat, Start, Stop and Song
/// Position, and each message leaves at its time (CLOCK_MONOTONIC, absolute sleeps) to the
/// RTP-MIDI session and the ALSA sequencer (which schedules it on its queue at that time too).
final class MIDIClockOutput: @unchecked Sendable {
    private let beats = SPSCRing<DaemonEvent>(capacity: 256, filler: .empty)
    private var generator: MIDIClockGenerator
    let rtp: RTPMIDISession?
    let alsa: ALSASequencerSink?
    /// Send time minus due time (ms) of each message: the clock's jitter on this machine.
    private let lateness = QuantileHistogram(lowest: 0.001, highest: 1e5)
    private let finished = UnsafeAtomic<Bool>.create(false)
    let messages = UnsafeAtomic<Int>.create(0)
    let droppedBeats = UnsafeAtomic<Int>.create(0)

    init(config: OutputConfig, report: @escaping (String) -> Void) throws(OutputError) {
        generator = MIDIClockGenerator(maxChangePerBeat: config.midiMaxChange)
        if config.midiRTPPeer.isEmpty {
            rtp = nil
        } else {
            let session = try RTPMIDISession(peer: config.midiRTPPeer, name: config.midiRTPName)
            session.report = report
            rtp = session
        }
        alsa = config.midiALSA ? try ALSASequencerSink(connectTo: config.midiALSAConnect) : nil
    }

    deinit { finished.destroy(); messages.destroy(); droppedBeats.destroy() }

    /// Output thread: hands a beat over (dropped and counted if 256 are pending).
    func offer(_ event: DaemonEvent) {
        var e = event
        if !beats.write(e) {
            droppedBeats.wrappingIncrement(ordering: .relaxed)
        }
    }

    /// Messages the RTP-MIDI session sent (those before it was established are not), once `run`
    /// has returned.
    func rtpSent() -> Int { finished.load(ordering: .acquiring) ? rtp?.sent ?? 0 : 0 }

    /// The lateness values, once `run` has returned.
    func finishedLateness() -> QuantileHistogram? { finished.load(ordering: .acquiring) ? lateness : nil }

    private func send(_ message: MIDIClockEvent) {
        let due = Int64(message.time * 1e9)
        let bytes = message.bytes
        alsa?.send(bytes, at: due)
        rtp?.send(bytes, nowNanos: MonotonicClock.nanos())
        lateness.record(Double(MonotonicClock.nanos() - due) / 1e6)
        messages.wrappingIncrement(ordering: .relaxed)
    }

    func run(stop: UnsafeAtomic<Bool>) {
        var event = DaemonEvent.empty
        while true {
            while withUnsafeMutablePointer(to: &event, {
                beats.read(into: UnsafeMutableBufferPointer(start: $0, count: 1))
            }) == 1 {
                let e = event.event
                let song = e.barSource == .operator
                    ? MIDIClockGenerator.songBeat(bar: e.bar, beatInBar: e.beatInBar, meter: e.meter) : nil
                generator.beat(at: Double(event.beatHostNanos) / 1e9, tempo: e.tempo, predicted: e.predicted,
                               songBeat: song)
            }
            let now = MonotonicClock.nanos()
            rtp?.service(nowNanos: now)
            if stop.load(ordering: .relaxed) {
                generator.stop(at: Double(now) / 1e9)
                for m in generator.advance(to: Double(now) / 1e9) { send(m) }
                // Let the Stop arrive before the session ends (a peer may read its control port
                // first and drop data from a peer that has left).
                if rtp != nil { sleepUntil(MonotonicClock.nanos() + 50_000_000) }
                rtp?.close()
                finished.store(true, ordering: .releasing)
                return
            }
            for m in generator.advance(to: Double(now) / 1e9) { send(m) }
            // Sleep to the next message, or 5 ms to look for beats and session packets.
            let next = generator.nextEventTime.map { Int64($0 * 1e9) } ?? Int64.max
            sleepUntil(min(next, now + 5_000_000))
        }
    }
}
