import Atomics
import Glibc
import Logging
import TactusCore
import TactusIO
import TactusWeb

/// Wires the threads of `tactus run` and supervises them from the main thread.
final class Daemon {
    /// The configuration in force (a reload changes what it can apply live).
    private(set) var config: TactusConfig
    /// The model in force (a reload compares the file's new contents with it).
    private var model: ModelSpec?
    let configPath: String
    let settings: [String]
    let log: Logger
    let channel: CaptureChannel
    let processing: ProcessingLoop
    let source: CaptureSource
    let notifier = SystemdNotifier()
    private let stopCapture = UnsafeAtomic<Bool>.create(false)
    private let stopProcessing = UnsafeAtomic<Bool>.create(false)
    private let stopOutput = UnsafeAtomic<Bool>.create(false)
    private var output: EventWriter
    private var midi: MIDIClockOutput?
    private let stopMIDI = UnsafeAtomic<Bool>.create(false)
    private var control: ControlServer?
    private var web: DaemonWeb?
    private let reports: SinkReports
    private let stopControl = UnsafeAtomic<Bool>.create(false)

    init(config: TactusConfig, configPath: String, settings: [String], speed: Double, log: Logger) throws {
        self.config = config
        self.configPath = configPath
        self.settings = settings
        self.log = log
        let checked: Preflight.Checked
        do { checked = try Preflight.check(config) } catch {
            log.error("\(error.message)")
            throw ExitCodeError.config
        }
        let (model, pipeline) = (checked.model, checked.pipeline)
        self.model = model
        // Room for ring_seconds of audio at up to 96 kHz, and a stamp per period of it (periods are
        // at least 5 ms long at any device rate).
        channel = CaptureChannel(capacitySamples: Int(config.capture.ringSeconds * 96_000),
                                 periods: Int(config.capture.ringSeconds * 200) + 64)
        processing = ProcessingLoop(pipeline: pipeline, channel: channel)
        let notices = NoticeBoard { [processing] in
            Double(bitPattern: processing.streamTimeBits.load(ordering: .relaxed))
        }
        reports = SinkReports(log: { [log] in log.warning("\($0)") }, notices: notices)
        let socket: LineSocketServer?, udp: UDPSender?
        do {
            socket = try Self.socketServer(config.output, group: checked.socketGroup)
            udp = try Self.jsonUDPSender(config.output, log: log)
            midi = try Self.midiClock(config.output, log: log, notices: notices)
        } catch {
            log.error("output: \(error)")
            throw ExitCodeError.config
        }
        let reloadable: [any EventSink]  // OSC targets, JSON-line UDP, stdout
        do { reloadable = try Self.reloadableSinks(config, udp: udp, reports: reports, log: log) } catch {
            log.error("output.osc_targets: \(error)")
            throw ExitCodeError.config
        }
        let web = config.web.listen.isEmpty ? nil : DaemonWeb(config.web, processing: processing)
        self.web = web
        let sinks: [(any EventSink)?] = [
            midi.map(MIDISink.init),
            socket.map(SocketSink.init),
            web?.sink,
        ]
        output = EventWriter(events: processing.events, sinks: sinks.compactMap { $0 } + reloadable,
                             notices: notices) { [processing] in processing.waitForEvents(timeout: $0) }
        output.socket = socket
        control = Self.controlServer(config, socket: output.socket, inbox: processing, output: output, log: log)
        web?.start(config, processing: processing, channel: channel, output: output, log: log)
        let (processing, channel, written) = (processing, channel, output.written)
        output.status = { [unowned output] in
            String(cFormat: "{\"v\":1,\"event\":\"status\",\"tempo\":%.2f,\"confidence\":%.3f,\"beats\":%d,"
                   + "\"xruns\":%d,\"dropped\":%d,\"output_errors\":%d,\"meter\":%d,\"beat_in_bar\":%d,\"bar\":%d",
                   Double(bitPattern: processing.tempoBits.load(ordering: .relaxed)),
                   Double(bitPattern: processing.confidenceBits.load(ordering: .relaxed)),
                   written.load(ordering: .relaxed), channel.xruns.load(ordering: .relaxed),
                   channel.droppedPeriods.load(ordering: .relaxed) + processing.droppedEvents.load(ordering: .relaxed),
                   output.outputErrors, processing.meter.load(ordering: .relaxed),
                   processing.beatInBar.load(ordering: .relaxed), processing.bar.load(ordering: .relaxed))
                + ",\"mode\":\"\(Self.mode(processing))\",\"locked\":\(processing.locked.load(ordering: .relaxed)),"
                + "\"gate\":\(processing.gateOpen.load(ordering: .relaxed))}"
        }
        let rate = Int(config.features.sampleRate)
        switch config.capture.source {
        case .alsa:
            source = ALSACapture(device: config.capture.device, requestedRate: rate, channel: config.capture.channel,
                                 periodHops: config.capture.periodHops, retryMax: config.capture.retryMax)
        case .file:
            do {
                source = try PacedFileCapture(path: config.capture.file, sampleRate: rate,
                                              periodFrames: config.features.hopSize * config.capture.periodHops,
                                              loop: config.capture.loop, speed: speed)
            } catch {
                log.error("capture.file: \(error)")
                throw ExitCodeError.config
            }
        }
        #if DEBUG
        // Fault injection (tests only; compiled out of release builds): see FaultPlan.
        func environment(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
        do {
            if let spec = environment("TACTUS_FAULTS_CAPTURE"), let alsa = source as? ALSACapture {
                alsa.faults = try FaultPlan(spec)
                log.warning("fault injection at the capture: \(spec)")
            }
            if let spec = environment("TACTUS_FAULTS_OSC") {
                let plan = try FaultPlan(spec)
                for case let target as OSCTargetSink in output.sinks { target.sender.faults = plan }
                log.warning("fault injection at the OSC targets: \(spec)")
            }
        } catch {
            log.error("fault injection: \(error)")
            throw ExitCodeError.config
        }
        #endif
        log.info("""
            model: \(model.map {
                "\(config.modelPath) (\($0.networks.count) networks"
                    + "\($0.onsetMix > 0 ? ", onset mix \($0.onsetMix)" : ""))"
            } ?? "none, spectral-flux onset fallback"); \
            emission \(config.emission.mode.rawValue), lead \(Int(config.emission.lead * 1000)) ms
            """)
    }

    deinit {
        stopCapture.destroy(); stopProcessing.destroy(); stopOutput.destroy(); stopMIDI.destroy(); stopControl.destroy()
    }

    /// The control thread's server (issue 20), wired to the processing loop and the outputs. A
    /// listen address that cannot be bound (a second daemon, a port in use) is logged and OSC
    /// control is off: the beats matter more than the buttons.
    private static func controlServer(_ config: TactusConfig, socket: LineSocketServer?,
                                      inbox processing: ProcessingLoop,
                                      output: EventWriter, log: Logger) -> ControlServer? {
        let inbox = ControlInbox()
        inbox.wake = { [processing] in processing.pokeOutput() }
        processing.inbox = inbox
        output.controlInbox = inbox
        output.logControl = { [log] in log.notice("\($0)") }
        let c = config.control
        let commandSocket = c.socketCommands ? socket : nil
        // Checked with the configuration (Preflight), so this parses.
        let allow = (try? AddressFilter(c.allow)) ?? (try! AddressFilter(""))
        var server: ControlServer?
        do {
            server = try ControlServer(listen: c.listen, allow: allow, maxRate: c.maxRate, socket: commandSocket,
                                       inbox: inbox)
        } catch {
            log.error("\(error); OSC control is off (the socket still takes commands)")
            server = try? ControlServer(listen: "", allow: allow, maxRate: c.maxRate, socket: commandSocket,
                                        inbox: inbox)
        }
        guard let server, !(c.listen.isEmpty && commandSocket == nil) else { return nil }
        server.report = { [log] in log.warning("\($0)") }
        output.controlServer = server
        var inputs: [String] = []
        if server.boundPort > 0 {
            // The port bound (port 0 in control.listen asks the system for one).
            let host = c.listen[..<(c.listen.lastIndex(of: ":") ?? c.listen.endIndex)]
            inputs.append("OSC on \(host):\(server.boundPort)"
                          + (c.allow.isEmpty ? " (loopback only)" : " (loopback and \(c.allow))"))
        }
        if let commandSocket { inputs.append("the socket \(commandSocket.path)") }
        if !inputs.isEmpty { log.info("control: commands from \(inputs.joined(separator: " and "))") }
        return server
    }

    /// following, held, or range-locked (a tempo range from the operator or from half/double).
    static func mode(_ processing: ProcessingLoop) -> String {
        if processing.holding.load(ordering: .relaxed) { return "held" }
        return processing.rangeSource.load(ordering: .relaxed) != 0 ? "range-locked" : "following"
    }

    struct Summary {
        var json: String
    }

    func run(duration: Double?) -> Summary {
        let started = MonotonicClock.seconds()
        let cpuStart = CPUTime.seconds()
        let p = NamedThread(name: "tactus-process") { [processing, stopProcessing] in
            processing.run(stop: stopProcessing)
        }
        let writer = output
        let o = NamedThread(name: "tactus-output") { [stopOutput] in
            writer.run(stop: stopOutput)
        }
        let capture = CaptureThread(source: source, channel: channel, stop: stopCapture,
                                    priority: config.capture.realtimePriority)
        let m = midi.map { midi in NamedThread(name: "tactus-midi") { [stopMIDI] in midi.run(stop: stopMIDI) } }
        let c = control.map { control in
            NamedThread(name: "tactus-control") { [stopControl] in control.run(stop: stopControl) }
        }
        m?.start()
        c?.start()
        p.start()
        o.start()
        capture.start()
        notifier.notify("READY=1")
        let input = config.capture.source == .alsa
            ? "ALSA device '\(config.capture.device)'" : "file '\(config.capture.file)'"
        announce(.info, "started", "running: capture \(input)")

        var lastStatus = -Double.infinity, lastWatchdog = -Double.infinity
        var inputEnded = false
        var reason = "signal"
        while stopSignal.load(ordering: .relaxed) == 0 && !inputEnded {
            if let duration, MonotonicClock.seconds() - started >= duration { reason = "duration"; break }
            sleepSeconds(0.1)  // signals, notices, status and watchdog: 10 times a second is plenty
            inputEnded = drainNotices()
            if inputEnded { reason = "input ended" }
            watchLockAndInput()
            if reloadSignal.exchange(0, ordering: .relaxed) > 0 { reload() }
            processing.releaseRetired()
            let now = MonotonicClock.seconds()
            if now - lastStatus >= config.service.statusInterval {
                notifier.notify("STATUS=\(statusLine())")
                lastStatus = now
            }
            // Watchdog only while the processing loop is alive: a stalled pipeline gets restarted.
            if let interval = notifier.watchdogInterval, now - lastWatchdog >= interval,
               MonotonicClock.nanos() - processing.heartbeatNanos.load(ordering: .relaxed) < 2_000_000_000 {
                notifier.notify("WATCHDOG=1")
                lastWatchdog = now
            }
        }
        notifier.notify("STOPPING=1")
        announce(.info, "stopping", "stopping (\(reason))", [("reason", DaemonNotice.quoted(reason))])
        stopControl.store(true, ordering: .relaxed)
        _ = c?.join(timeout: 1)
        web?.stop()
        stopCapture.store(true, ordering: .relaxed)
        if !capture.join(timeout: 1) { log.warning("capture thread did not stop within 1 s") }
        stopProcessing.store(true, ordering: .relaxed)
        channel.poke()
        _ = p.join(timeout: 1)
        stopOutput.store(true, ordering: .relaxed)
        processing.pokeOutput()
        _ = o.join(timeout: 1)
        // MIDI last: the beats the output thread handed over are in; Stop and BY go out.
        stopMIDI.store(true, ordering: .relaxed)
        _ = m?.join(timeout: 1)
        _ = drainNotices()
        return summary(wall: MonotonicClock.seconds() - started, cpu: CPUTime.seconds() - cpuStart)
    }

    /// Logs what the capture thread reported; returns true when a file input ended.
    private func drainNotices() -> Bool {
        var n = CaptureNotice(kind: .opened, value: 0, hostNanos: 0)
        var ended = false
        let device = DaemonNotice.quoted(config.capture.device)
        while withUnsafeMutablePointer(to: &n, {
            channel.notices.read(into: UnsafeMutableBufferPointer(start: $0, count: 1))
        }) == 1 {
            switch n.kind {
            case .opened:
                announce(.notice, "device_open", "capture open at \(n.value) Hz",
                         [("device", device), ("rate", "\(n.value)")])
            case .openFailed:
                let why = ALSAError(code: Int32(n.value)).description
                announce(.warning, "device_unavailable",
                         "capture device '\(config.capture.device)' unavailable: \(why); retrying with backoff",
                         [("device", device), ("error", DaemonNotice.quoted(why))])
            case .retrying: log.debug("next attempt to open the capture device in \(n.value) ms")
            case .xrun:
                announce(.warning, "xrun",
                         n.value > 0 ? "capture gap: \(n.value) samples lost; the stream clock advances over them"
                                     : "capture overrun (xrun); restarted",
                         [("samples", "\(n.value)")])
            case .suspended:
                announce(.warning, "device_suspended", "capture device suspended; resuming", [("device", device)])
            case .lost:
                let why = ALSAError(code: Int32(n.value)).description
                announce(.error, "device_lost", "capture device lost: \(why); reopening",
                         [("device", device), ("error", DaemonNotice.quoted(why))])
            case .realtime: log.info("capture thread at SCHED_FIFO priority \(n.value)")
            case .realtimeDenied: log.warning("""
                no real-time priority for the capture thread (error \(n.value)): running at normal priority; \
                grant LimitRTPRIO or CAP_SYS_NICE
                """)
            case .ended:
                if let why = (source as? PacedFileCapture)?.failure.withLock({ $0 }) {
                    log.error("capture.file: decoding stopped: \(why)")
                }
                announce(.notice, "input_ended", "input ended")
                ended = true
            }
        }
        return ended
    }

    /// The sinks a reload rebuilds: one per OSC target, JSON-line UDP, stdout.
    static func reloadableSinks(_ config: TactusConfig, udp: UDPSender?, reports: SinkReports,
                                log: Logger) throws -> [any EventSink] {
        let targets = try oscTargets(config)
        reportTargets(targets, log: log)
        let osc: [any EventSink] = targets.map {
            OSCTargetSink(sender: $0.0, schema: $0.1, phaseRate: config.output.oscPhaseRate, reports: reports)
        }
        let lines: [(any EventSink)?] = [udp.map(UDPLineSink.init),
                                         config.output.stdout ? StdoutSink(reports: reports) : nil]
        return osc + lines.compactMap { $0 }
    }

    static func socketServer(_ output: OutputConfig, group: gid_t?) throws -> LineSocketServer? {
        guard !output.jsonlSocket.isEmpty else { return nil }
        return try LineSocketServer(path: output.jsonlSocket, mode: output.socketMode ?? 0o660, group: group)
    }

    static func jsonUDPSender(_ output: OutputConfig, log: Logger) throws -> UDPSender? {
        guard !output.jsonlUDP.isEmpty else { return nil }
        let sender = try UDPSender(target: output.jsonlUDP)
        if let why = sender.unresolvedReason { log.warning("output.jsonl_udp: \(why); retrying with back-off") }
        return sender
    }

    static func midiClock(_ output: OutputConfig, log: Logger, notices: NoticeBoard) throws -> MIDIClockOutput? {
        guard !output.midiRTPPeer.isEmpty || output.midiALSA else { return nil }
        let midi = try MIDIClockOutput(config: output) { [log] message in
            announce(.notice, "midi_session", message, log: log, to: notices)
        }
        let peers = [output.midiRTPPeer.isEmpty ? nil : "RTP-MIDI peer \(output.midiRTPPeer)",
                     output.midiALSA ? "the ALSA sequencer" : nil]
        log.info("MIDI clock to \(peers.compactMap { $0 }.joined(separator: " and "))")
        return midi
    }

    /// The OSC senders and schemas of `output.osc_targets` (syntax checked with the configuration).
    static func oscTargets(_ config: TactusConfig) throws -> [(UDPSender, OSCSchema)] {
        let output = config.output
        return try OSCTargetSpec.list(output.oscTargets).map { spec in
            (try UDPSender(target: spec.address, ttl: output.oscTTL, interface: output.oscInterface),
             OSCSchema(preset: spec.preset, timetags: spec.timetags ?? output.oscTimetags,
                       qlcPath: output.qlcPath, qlcBarPath: output.qlcBarPath, qlcPhrasePath: output.qlcPhrasePath,
                       ma3Command: output.ma3Command,
                       lead: OSCSchema.sendLead(preset: spec.preset, lead: spec.lead,
                                                emissionLead: config.emission.lead),
                       release: spec.release ?? OSCSchema.qlcRelease))
        }
    }

    /// One line per target that cannot be sent to yet, and the list of targets.
    static func reportTargets(_ targets: [(UDPSender, OSCSchema)], log: Logger) {
        for (sender, _) in targets where sender.lastError != 0 {
            let why = sender.lastError == UDPSender.unresolvedError ? sender.failureReason
                : "no route yet (\(sender.failureReason))"
            log.warning("OSC \(sender.target): \(why); retrying with back-off, beats to it are dropped until then")
        }
        if !targets.isEmpty {
            log.info("OSC to \(targets.map { "\($0.0.target) (\($0.1.preset.rawValue))" }.joined(separator: ", "))")
        }
    }

    /// Keys a reload cannot apply while running: the capture, the feature stage, the service,
    /// the socket and the MIDI clock.
    static func needsRestart(_ key: String) -> Bool {
        ["capture.", "features.", "service.log_level", "output.jsonl_socket", "output.midi_", "control.", "web."]
            .contains { key.hasPrefix($0) }
    }

    /// Keys the processing pipeline reads; emission keys other than these can be retuned in place.
    static func isPipelineKey(_ key: String) -> Bool {
        ["tracker.", "onset.", "emission.", "model.path"].contains { key.hasPrefix($0) }
    }

    /// SIGHUP: the new configuration is checked here, off the hot path. Outputs are replaced on
    /// the output thread; emission settings are retuned at a period boundary with the tracker's
    /// state kept; tracker, onset and model changes swap in a new pipeline (the tracker starts
    /// over); keys that need a restart are named and kept as they are. A bad file is rejected
    /// and the old configuration kept.
    private func reload() {
        do throws(any Error) {
            var new = try ConfigLoading.loadChecked(path: configPath, defaultPath: nil, settings: settings)
            let changed = ParameterTable.all.filter { $0.value(in: new) != $0.value(in: config) }.map(\.key)
            let restart = changed.filter(Self.needsRestart)
            // Kept as they run until a restart.
            new.capture = config.capture
            new.features = config.features
            new.service.logLevel = config.service.logLevel
            for key in restart where key.hasPrefix("output.") {
                if let p = ParameterTable.parameter(key) { try? new.set(key, value: p.value(in: config)) }
            }
            let checked = try Preflight.check(new)
            var applied: [String] = []
            // The OSC send times follow emission.lead: a changed lead rebuilds the targets too.
            let outputKeys = changed.filter {
                ($0.hasPrefix("output.") && !Self.needsRestart($0)) || $0 == "emission.lead"
            }
            if !outputKeys.isEmpty {
                let udp = try new.output.jsonlUDP.isEmpty ? nil : UDPSender(target: new.output.jsonlUDP)
                output.replaceReloadable(with: try Self.reloadableSinks(new, udp: udp, reports: reports, log: log))
                applied += outputKeys
            }
            let pipelineKeys = changed.filter(Self.isPipelineKey)
            let modelChanged = checked.model != model
            if !pipelineKeys.isEmpty || modelChanged {
                let retune = !modelChanged && BeatPipeline.canRetune(from: config, to: new)
                guard processing.offer(checked.pipeline, retuneOnly: retune) else {
                    log.warning("reload: the previous reload is still pending; try again")
                    return
                }
                if !retune { log.notice("reload: tracker or model settings changed: the tracker starts over") }
                applied += pipelineKeys + (modelChanged && pipelineKeys.isEmpty ? ["model.path (file contents)"] : [])
                model = checked.model
            }
            if changed.contains("service.status_interval") { applied.append("service.status_interval") }
            if !restart.isEmpty {
                log.warning("reload: \(restart.joined(separator: ", ")) take effect after a restart")
            }
            config = new
            let what = applied.isEmpty ? "nothing to change" : "applied \(applied.joined(separator: ", "))"
            announce(.notice, "reload", "configuration reloaded from \(configPath): \(what)")
        } catch let error as ConfigLoading.Failure {
            rejectReload(error.message)
        } catch {
            rejectReload("\(error)")
        }
    }

    private func rejectReload(_ why: String) {
        announce(.error, "reload_rejected", "reload rejected, keeping the running configuration: \(why)")
    }

    /// A state change: one log line, and the same as a JSON-line notice (docs/events.md).
    private func announce(_ level: Logger.Level, _ kind: String, _ message: String, _ fields: [(String, String)] = []) {
        Self.announce(level, kind, message, fields, log: log, to: output.notices)
    }

    private static func announce(_ level: Logger.Level, _ kind: String, _ message: String,
                                 _ fields: [(String, String)] = [], log: Logger, to notices: NoticeBoard) {
        log.log(level: level, "\(message)")
        notices.post(DaemonNotice(kind: kind, message: message, fields: fields))
    }

    private var wasLocked = false
    private var repairedReported = 0
    private var lastRepairPost = -Double.infinity

    /// Lock and unlock of the emitter, and repaired (NaN, infinite, huge) input, as notices; polled
    /// every 50 ms, so a lock shorter than that may go unreported.
    private func watchLockAndInput() {
        let locked = processing.locked.load(ordering: .relaxed)
        if locked != wasLocked {
            wasLocked = locked
            let tempo = Double(bitPattern: processing.tempoBits.load(ordering: .relaxed))
            let confidence = Double(bitPattern: processing.confidenceBits.load(ordering: .relaxed))
            announce(.info, locked ? "lock" : "unlock",
                     locked ? String(cFormat: "locked at %.1f BPM", tempo) : "lock lost",
                     [("tempo", String(cFormat: "%.2f", tempo)), ("confidence", String(cFormat: "%.3f", confidence))])
        }
        let repaired = processing.repairedSamples.load(ordering: .relaxed)
        if repaired > repairedReported && MonotonicClock.seconds() - lastRepairPost >= 1 {
            lastRepairPost = MonotonicClock.seconds()
            let m = "input: \(repaired - repairedReported) samples were NaN, infinite "
                + "or beyond full scale ×64; replaced"
            // Logged once; a notice at most once a second while it goes on.
            if repairedReported == 0 { log.warning("\(m) (further repairs counted in the notices)") }
            output.post(DaemonNotice(kind: "input_repaired", message: m, fields: [("samples", "\(repaired)")]))
            repairedReported = repaired
        }
    }

    private func statusLine() -> String {
        let tempo = Double(bitPattern: processing.tempoBits.load(ordering: .relaxed))
        let confidence = Double(bitPattern: processing.confidenceBits.load(ordering: .relaxed))
        return String(cFormat: "tempo %.1f BPM, confidence %.2f, beats %d, xruns %d, bar %d beat %d/%d",
                      tempo, confidence,
                      output.written.load(ordering: .relaxed), channel.xruns.load(ordering: .relaxed),
                      processing.bar.load(ordering: .relaxed), processing.beatInBar.load(ordering: .relaxed),
                      processing.meter.load(ordering: .relaxed)) + ", " + Self.mode(processing)
    }

    private func summary(wall: Double, cpu: Double) -> Summary {
        // Read only what threads that have finished wrote (nil: one did not stop within its timeout).
        let costs = processing.finishedCosts()
        let latencies = output.finishedLatencies()
        let midiLateness = midi?.finishedLateness()
        func q(_ h: QuantileHistogram?, _ p: Double) -> Double { h?.quantile(p) ?? 0 }
        let fields: [(String, String)] = [
            ("wall_s", String(cFormat: "%.3f", wall)), ("cpu_s", String(cFormat: "%.3f", cpu)),
            ("cpu_share", String(cFormat: "%.5f", wall > 0 ? cpu / wall : 0)),
            ("rss_kib", "\(CPUTime.residentKiB())"), ("max_rss_kib", "\(CPUTime.maxResidentKiB())"),
            ("periods", "\(processing.hops.load(ordering: .relaxed))"),
            ("events", "\(output.written.load(ordering: .relaxed))"),
            ("late_beats", "\(output.lateBeats.load(ordering: .relaxed))"),
            ("output_errors", "\(output.outputErrors)"),
            ("dropped_events", "\(processing.droppedEvents.load(ordering: .relaxed))"),
            ("dropped_periods", "\(channel.droppedPeriods.load(ordering: .relaxed))"),
            ("xruns", "\(channel.xruns.load(ordering: .relaxed))"),
            ("repaired_samples", "\(processing.repairedSamples.load(ordering: .relaxed))"),
            ("stream_s",
             String(cFormat: "%.4f", Double(bitPattern: processing.streamTimeBits.load(ordering: .relaxed)))),
            ("cost_us_p50", String(cFormat: "%.2f", q(costs, 0.5))),
            ("cost_us_p99", String(cFormat: "%.2f", q(costs, 0.99))),
            ("latency_ms_p50", String(cFormat: "%.3f", q(latencies, 0.5))),
            ("latency_ms_p99", String(cFormat: "%.3f", q(latencies, 0.99))),
            ("midi_messages", "\(midi?.messages.load(ordering: .relaxed) ?? 0)"),
            ("midi_rtp_sent", "\(midi?.rtpSent() ?? 0)"),
            ("midi_lateness_ms_p50", String(cFormat: "%.4f", q(midiLateness, 0.5))),
            ("midi_lateness_ms_p99", String(cFormat: "%.4f", q(midiLateness, 0.99))),
            ("midi_lateness_ms_max", String(cFormat: "%.4f", max(0, midiLateness?.maximum ?? 0))),
        ]
        return Summary(json: "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}\n")
    }
}

enum ExitCodeError: Error { case config }

func sleepSeconds(_ s: Double) {
    var ts = timespec(tv_sec: Int(s), tv_nsec: Int((s - Double(Int(s))) * 1e9))
    nanosleep(&ts, nil)
}

/// Process CPU time and memory, for the statistics.
enum CPUTime {
    static func seconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }

    /// Peak resident memory of this process image (VmHWM). Not getrusage's ru_maxrss: Linux
    /// carries that across execve, so a daemon started by a large process (a test harness that
    /// holds an hour of audio) would report its parent's memory as its own peak.
    static func maxResidentKiB() -> Int { statusField("VmHWM:") }

    static func residentKiB() -> Int { statusField("VmRSS:") }

    /// A "kB" field of /proc/self/status.
    private static func statusField(_ name: String) -> Int {
        guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in s.split(separator: "\n") where line.hasPrefix(name) {
            return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        }
        return 0
    }
}
