import Atomics
import Foundation
import TactusCore
import TactusIO

/// The output thread: JSON lines on stdout (docs/events.md plus host times), one write per event;
/// a slow reader blocks only this thread (the queue in front of it drops and counts).
final class EventWriter: @unchecked Sendable {
    let events: SPSCRing<DaemonEvent>
    let wait: (Double) -> Void
    let osc: [UDPSender]
    let timetags: Bool
    /// Called (on this thread) when a target starts or stops failing: logged once per change.
    let report: (String) -> Void
    let written = UnsafeAtomic<Int>.create(0)
    /// Capture-to-event latencies (ms), kept for the statistics (read after `run` returned).
    private var latencyValues: [Double] = []

    init(events: SPSCRing<DaemonEvent>, osc: [UDPSender] = [], timetags: Bool = true,
         report: @escaping (String) -> Void = { _ in }, wait: @escaping (Double) -> Void) {
        self.events = events
        self.osc = osc
        self.timetags = timetags
        self.report = report
        self.wait = wait
        latencyValues.reserveCapacity(1 << 16)
    }

    func latencies() -> [Double] { latencyValues }

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
            let n = batch.withUnsafeMutableBufferPointer { events.read(into: $0) }
            if n == 0 {
                if stop.load(ordering: .relaxed) { return }
                wait(0.2)
                continue
            }
            var text = ""
            for d in batch[0..<n] {
                let e = d.event
                text += String(format: "{\"v\":1,\"event\":\"beat\",\"time\":%.4f,\"emitted\":%.4f,\"tempo\":%.2f,\"confidence\":%.3f,\"count\":%d,\"predicted\":%@,\"host_time\":%.6f}\n",
                               e.beatTime, e.emissionTime, e.tempo, e.confidence, e.count, e.predicted ? "true" : "false",
                               Double(d.beatHostNanos) / 1e9)
                if latencyValues.count < 1 << 20 { latencyValues.append(Double(d.readyNanos - d.captureNanos) / 1e6) }
            }
            // OSC first: it is the time-critical output; stdout may be a slow pipe.
            if !osc.isEmpty {
                let toUnix = Self.monotonicToUnix()
                for d in batch[0..<n] {
                    let datagrams = OSCSchema.packets(for: d.event, beatUnixTime: Double(d.beatHostNanos) / 1e9 + toUnix,
                                                      timetag: timetags).map { $0.encoded() }
                    for target in osc {
                        let before = target.lastError
                        for bytes in datagrams { target.send(bytes) }
                        if target.lastError != before {
                            report(target.lastError == 0 ? "OSC \(target.target): sending again"
                                : "OSC \(target.target): \(String(cString: strerror(target.lastError))); beats to it are dropped until it recovers")
                        }
                    }
                }
            }
            FileHandle.standardOutput.write(Data(text.utf8))
            written.wrappingIncrement(by: n, ordering: .relaxed)
        }
    }
}
