import Atomics
import Glibc
import Logging
import Synchronization
import TactusCore
import TactusIO
import TactusWeb

/// The daemon's web page and /metrics (issue 21; docs/web.md), wired to the processing loop,
/// the output thread and the command queue. Nothing of it exists with `web.listen = ""`.
final class DaemonWeb: @unchecked Sendable {  // set up on the main thread before the server starts
    let hub: WebHub
    let sink: WebSink
    private(set) var server: WebServer?
    private let started = MonotonicClock.nanos()
    private let cpu = CPUMeter()
    private let frames = SPSCRing<FrameSample>(capacity: 4096, filler: .empty)
    /// The status object's buffer (the output thread's).
    private var statusBytes = [UInt8]()

    /// The sink for the output thread's list, and the feeds of the processing loop.
    init(_ config: WebConfig, processing: ProcessingLoop) {
        hub = WebHub(maxClients: config.maxClients)
        let costs = SPSCRing<Float>(capacity: 4096, filler: 0)
        processing.frameFeed = frames
        processing.costFeed = costs
        sink = WebSink(hub: hub, costs: costs)
    }

    /// Starts serving; a port that cannot be bound is logged and the page is off (the beats
    /// matter more). Called once the command queue exists.
    func start(_ config: TactusConfig, processing: ProcessingLoop, channel: CaptureChannel, output: EventWriter,
               log: Logger) {
        let constant = Self.describe(config).quoted
        sink.status = { [unowned self, unowned output] in
            self.status(processing: processing, channel: channel, output: output, constant: constant)
        }
        sink.sinkErrors = { [unowned output] in output.sinks.map { ($0.name, $0.errors) } }
        output.webHub = hub
        let endpoints = WebEndpoints(
            status: { [sink] in sink.published.withLock { $0.status } },
            metrics: { [unowned self] in
                self.metrics(processing: processing, channel: channel, output: output, config: config)
            },
            submit: { [processing] command, nanos, origin in
                processing.inbox?.submit(command, hostNanos: nanos, origin: origin) ?? false
            })
        let server = WebServer(config: config.web, hub: hub, endpoints: endpoints, frames: frames, logger: log)
        do {
            let port = try server.start()
            let host = config.web.listen[..<(config.web.listen.lastIndex(of: ":") ?? config.web.listen.endIndex)]
            let token = config.web.token.isEmpty ? "" : " (token required)"
            log.info("web: page and /metrics on http://\(host):\(port)/\(token)")
            self.server = server
        } catch {
            log.error("\(error.message); the web page is off")
        }
    }

    func stop() { server?.stop() }

    struct Description {
        var model: String
        var device: String
        /// The status object's constant members, as JSON: model, device and version.
        var quoted: [UInt8] {
            Array((",\"model\":\(JSONString.quoted(model)),\"device\":\(JSONString.quoted(device)),"
                   + "\"version\":\(JSONString.quoted(TactusVersion.string))").utf8)
        }
    }

    static func describe(_ config: TactusConfig) -> Description {
        let model = config.modelPath.isEmpty ? "none (spectral-flux onset)" : config.modelPath
        let device = config.capture.source == .alsa ? config.capture.device : "file " + config.capture.file
        return Description(model: model, device: device)
    }

    /// The page's status object (and /api/status), on the output thread about 4 times a second:
    /// built in one reused buffer (no format strings), the constant parts quoted once.
    private func status(processing: ProcessingLoop, channel: CaptureChannel, output: EventWriter,
                        constant: [UInt8]) -> String {
        let p = processing
        var b = [UInt8]()
        swap(&b, &statusBytes)  // the buffer, uniquely referenced: no copy
        b.removeAll(keepingCapacity: true)
        func key(_ k: StaticString) {
            b.append(UInt8(ascii: ","))
            b.append(UInt8(ascii: "\""))
            b.append(contentsOf: UnsafeBufferPointer(start: k.utf8Start, count: k.utf8CodeUnitCount))
            b.append(contentsOf: #"":"#.utf8)
        }
        func number(_ k: StaticString, _ v: Double, _ decimals: Int) {
            key(k)
            DecimalText.append(v, decimals: decimals, to: &b)
        }
        func flag(_ k: StaticString, _ v: Bool) {
            key(k)
            b.append(contentsOf: (v ? "true" : "false").utf8)
        }
        b.append(contentsOf: #"{"v":1,"event":"status""#.utf8)
        number("tempo", Double(bitPattern: p.tempoBits.load(ordering: .relaxed)), 2)
        number("confidence", Double(bitPattern: p.confidenceBits.load(ordering: .relaxed)), 3)
        number("beats", Double(output.written.load(ordering: .relaxed)), 0)
        number("xruns", Double(channel.xruns.load(ordering: .relaxed)), 0)
        number("dropped_samples", Double(channel.droppedSampleCount.load(ordering: .relaxed)), 0)
        number("dropped_events", Double(p.droppedEvents.load(ordering: .relaxed)), 0)
        number("output_errors", Double(output.outputErrors), 0)
        number("meter", Double(p.meter.load(ordering: .relaxed)), 0)
        number("beat_in_bar", Double(p.beatInBar.load(ordering: .relaxed)), 0)
        number("bar", Double(p.bar.load(ordering: .relaxed)), 0)
        key("mode")
        b.append(contentsOf: "\"\(Daemon.mode(p))\"".utf8)
        flag("locked", p.locked.load(ordering: .relaxed))
        flag("gate", p.gateOpen.load(ordering: .relaxed))
        b.append(contentsOf: constant)
        number("rate", Double(channel.sampleRate.load(ordering: .relaxed)), 0)
        number("uptime_s", Double(MonotonicClock.nanos() - started) / 1e9, 1)
        number("cpu_share", cpu.share(), 4)
        number("pages", Double(hub.clientCount), 0)
        key("output_errors_by_sink")
        b.append(UInt8(ascii: "{"))
        for (i, sink) in output.sinks.enumerated() {
            if i > 0 { b.append(UInt8(ascii: ",")) }
            b.append(contentsOf: JSONString.quoted(sink.name).utf8)
            b.append(UInt8(ascii: ":"))
            DecimalText.append(Double(sink.errors), decimals: 0, to: &b)
        }
        b.append(contentsOf: "}}".utf8)
        statusBytes = b
        return String(decoding: b, as: UTF8.self)
    }

    /// /metrics, on a server thread: atomics and what the output thread published.
    private func metrics(processing: ProcessingLoop, channel: CaptureChannel, output: EventWriter,
                         config: TactusConfig) -> String {
        let p = sink.published.withLock { $0 }
        var m = MetricsText()
        m.add("tactus_beats_total", .counter, "Beats sent.", Double(output.written.load(ordering: .relaxed)))
        m.add("tactus_late_beats_total", .counter, "Predicted beats that left with less than emission.lead.",
              Double(output.lateBeats.load(ordering: .relaxed)))
        m.add("tactus_tempo_bpm", .gauge, "The tracker's tempo.",
              Double(bitPattern: processing.tempoBits.load(ordering: .relaxed)))
        m.add("tactus_confidence", .gauge, "The tracker's confidence, 0 to 1.",
              Double(bitPattern: processing.confidenceBits.load(ordering: .relaxed)))
        m.add("tactus_locked", .gauge, "1 while beats are predicted ahead.",
              processing.locked.load(ordering: .relaxed) ? 1 : 0)
        m.add("tactus_gate_open", .gauge, "1 while the signal gate hears music.",
              processing.gateOpen.load(ordering: .relaxed) ? 1 : 0)
        m.add("tactus_xruns_total", .counter, "Capture overruns and gaps.",
              Double(channel.xruns.load(ordering: .relaxed)))
        m.add("tactus_dropped_samples_total", .counter, "Samples dropped because the capture ring was full.",
              Double(channel.droppedSampleCount.load(ordering: .relaxed)))
        m.add("tactus_dropped_events_total", .counter, "Beats dropped because the output queue was full.",
              Double(processing.droppedEvents.load(ordering: .relaxed)))
        m.add("tactus_output_errors_total", .counter, "Failed sends and writes, per sink.",
              p.sinkErrors.map { ([("sink", $0.0)], Double($0.1)) })
        m.add("tactus_periods_total", .counter, "Capture periods processed.",
              Double(processing.hops.load(ordering: .relaxed)))
        if let q = p.costQuantiles {
            m.add("tactus_period_processing_seconds", .summary,
                  "Processing time per capture period over the last minute.",
                  [([("quantile", "0.5")], q.0), ([("quantile", "0.99")], q.1), ([("quantile", "1")], q.2)])
        }
        m.add("tactus_web_clients", .gauge, "Live pages.", Double(hub.clientCount))
        m.add("tactus_web_clients_dropped_total", .counter, "Pages dropped for not keeping up.",
              Double(hub.droppedClients.load(ordering: .relaxed)))
        m.add("tactus_uptime_seconds", .gauge, "Seconds since the daemon started.",
              Double(MonotonicClock.nanos() - started) / 1e9)
        m.add("tactus_build_info", .gauge, "Version and model.",
              [([("version", TactusVersion.string), ("model", Self.describe(config).model)], 1)])
        return m.text
    }
}

/// The process's CPU share over the last second or so (all threads), for the page.
final class CPUMeter: @unchecked Sendable {
    private var last = (wall: MonotonicClock.seconds(), cpu: CPUTime.seconds())
    private var value = 0.0

    func share() -> Double {
        let wall = MonotonicClock.seconds()
        if wall - last.wall >= 1 {  // getrusage once a second, not at every status
            let cpu = CPUTime.seconds()
            value = (cpu - last.cpu) / (wall - last.wall)
            last = (wall, cpu)
        }
        return value
    }
}
