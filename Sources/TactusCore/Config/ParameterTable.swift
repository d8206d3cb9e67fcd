/// A parameter's value, as the CLI and config files carry it.
public enum ParameterValue: Sendable, Equatable, CustomStringConvertible {
    case int(Int)
    case double(Double)
    case string(String)
    case bool(Bool)

    public var description: String {
        switch self {
        case .bool(let v): return String(v)
        case .int(let v): return String(v)
        case .double(let v): return String(v)
        case .string(let v): return "\"\(v)\""
        }
    }
}

/// One tunable: key, unit, allowed range, meaning, and where it lives in `TactusConfig`.
public struct Parameter: Sendable {
    public enum Kind: Sendable {
        case int(ClosedRange<Int>)
        case double(ClosedRange<Double>)
        case string
        case choice([String])
        case bool
    }

    public let key: String
    public let unit: String
    public let kind: Kind
    public let summary: String
    let get: @Sendable (TactusConfig) -> ParameterValue
    let set: @Sendable (inout TactusConfig, ParameterValue) -> Void

    public func value(in config: TactusConfig) -> ParameterValue { get(config) }
    public var defaultValue: ParameterValue { self.get(TactusConfig()) }

    public var rangeDescription: String {
        switch kind {
        case .int(let r): return "\(r.lowerBound)...\(r.upperBound)"
        case .double(let r): return "\(r.lowerBound)...\(r.upperBound)"
        case .string: return "text"
        case .choice(let options): return options.joined(separator: "|")
        case .bool: return "true|false"
        }
    }

    /// A `--set` value: decimal numbers only (no hex, nan or inf), so that what is set is what
    /// was written; every error names the key, the value and what the key takes.
    func parse(_ text: String) throws(ConfigError) -> ParameterValue {
        let takes = "\(key) takes \(rangeDescription)\(unit.isEmpty ? "" : " " + unit)"
        switch kind {
        case .int:
            guard let v = Int(text) else { throw .invalid(key: key, "'\(text)' is not a decimal integer; \(takes)") }
            return .int(v)
        case .double:
            let decimal = !text.isEmpty && text.allSatisfy { "0123456789+-.eE".contains($0) }
            guard decimal, let v = Double(text), v.isFinite else {
                throw .invalid(key: key, "'\(text)' is not a finite decimal number; \(takes)")
            }
            return .double(v)
        case .string, .choice:
            return .string(text)
        case .bool:
            guard let v = Bool(text) else { throw .invalid(key: key, "'\(text)' is not true or false; \(takes)") }
            return .bool(v)
        }
    }

    /// Checks type and range; an integer is accepted where a number is expected.
    public func check(_ value: ParameterValue) throws(ConfigError) {
        switch (kind, value) {
        case (.int(let r), .int(let v)):
            guard r.contains(v) else { throw .invalid(key: key, "\(v) is outside \(rangeDescription) \(unit)") }
        case (.double(let r), .double(let v)):
            guard v.isFinite, r.contains(v) else {
                throw .invalid(key: key, "\(v) is outside \(rangeDescription) \(unit)")
            }
        case (.double(let r), .int(let v)):
            guard r.contains(Double(v)) else { throw .invalid(key: key, "\(v) is outside \(rangeDescription) \(unit)") }
        case (.string, .string), (.bool, .bool):
            break
        case (.choice(let options), .string(let v)):
            guard options.contains(v) else { throw .invalid(key: key, "'\(v)' is not one of \(rangeDescription)") }
        default:
            throw .invalid(key: key, "expected \(typeName), got \(value)")
        }
    }

    public var typeName: String {
        switch kind {
        case .int: return "an integer"
        case .double: return "a number"
        case .string: return "a string"
        case .choice(let options): return "one of \(options.joined(separator: ", "))"
        case .bool: return "true or false"
        }
    }
}

private func int(_ key: String, _ unit: String, _ range: ClosedRange<Int>, _ summary: String,
                 _ path: WritableKeyPath<TactusConfig, Int> & Sendable) -> Parameter {
    Parameter(key: key, unit: unit, kind: .int(range), summary: summary,
              get: { .int($0[keyPath: path]) },
              set: { c, v in if case .int(let i) = v { c[keyPath: path] = i } })
}

private func double(_ key: String, _ unit: String, _ range: ClosedRange<Double>, _ summary: String,
                    _ path: WritableKeyPath<TactusConfig, Double> & Sendable) -> Parameter {
    Parameter(key: key, unit: unit, kind: .double(range), summary: summary,
              get: { .double($0[keyPath: path]) },
              set: { c, v in
                  switch v {
                  case .double(let d): c[keyPath: path] = d
                  case .int(let i): c[keyPath: path] = Double(i)
                  default: break
                  }
              })
}

private func float(_ key: String, _ unit: String, _ range: ClosedRange<Double>, _ summary: String,
                   _ path: WritableKeyPath<TactusConfig, Float> & Sendable) -> Parameter {
    Parameter(key: key, unit: unit, kind: .double(range), summary: summary,
              get: { .double(Double($0[keyPath: path])) },
              set: { c, v in
                  switch v {
                  case .double(let d): c[keyPath: path] = Float(d)
                  case .int(let i): c[keyPath: path] = Float(i)
                  default: break
                  }
              })
}

/// The single table of parameters: defaults come from the config structs themselves.
public enum ParameterTable {
    public static let all: [Parameter] = [
        double("features.sample_rate", "Hz", 8_000...192_000,
               "processing sample rate; input audio is resampled to it", \.features.sampleRate),
        int("features.frame_size", "samples", 256...16_384,
            "STFT frame length (window entirely in the past)", \.features.frameSize),
        int("features.hop_size", "samples", 1...16_384,
            "hop between frames; 441 at 44.1 kHz = 100 frames/s", \.features.hopSize),
        int("features.bands_per_octave", "bands", 1...48,
            "logarithmic filterbank resolution", \.features.bandsPerOctave),
        double("features.min_frequency", "Hz", 1...20_000, "lowest filterbank frequency", \.features.minFrequency),
        double("features.max_frequency", "Hz", 100...96_000, "highest filterbank frequency", \.features.maxFrequency),
        float("features.log_multiplier", "", 1e-6...1e6, "log compression: log10(mul*x + add), mul",
              \.features.logMultiplier),
        float("features.log_add", "", 1e-6...1e6, "log compression: log10(mul*x + add), add", \.features.logAdd),
        double("features.diff_ratio", "", 0.01...0.99,
               "window ratio setting the spectral-difference distance", \.features.diffRatio),
        double("tracker.min_bpm", "BPM", 10...400, "slowest tempo tracked", \.tracker.minBPM),
        double("tracker.max_bpm", "BPM", 20...1_000, "fastest tempo tracked", \.tracker.maxBPM),
        int("tracker.tempo_count", "states", 0...1_000,
            "number of tempo states; 0 = one per integer beat interval", \.tracker.tempoCount),
        double("tracker.transition_lambda", "", 1...10_000,
               "tempo change penalty; larger keeps the tempo steadier", \.tracker.transitionLambda),
        double("tracker.observation_lambda", "", 2...1_000,
               "the beat region is the first 1/lambda of each beat", \.tracker.observationLambda),
        double("tracker.prior_bpm", "BPM", 0...400,
               "preferred tempo, applied at every beat boundary; 0 = no prior (madmom)", \.tracker.priorBPM),
        double("tracker.prior_width", "octaves", 0.05...4, "width of the tempo prior (one standard deviation)",
               \.tracker.priorWidth),
        double("tracker.start_bpm", "BPM", 0...400,
               "centre of the initial tempo distribution (predictive mode); 0 = uniform", \.tracker.startBPM),
        double("tracker.start_width", "octaves", 0.05...4, "width of the initial tempo distribution",
               \.tracker.startWidth),
        double("tracker.reset_rate", "1/s", 0...1,
               "share of the start distribution mixed in per second (predictive mode), to re-find tempo jumps",
               \.tracker.resetRate),
        double("tracker.relock_threshold", "nats", 0...1_000,
               "re-lock after a tempo change: evidence for the looser tracker "
               + "that hands over its distribution; 0 = off",
               \.tracker.relockThreshold),
        double("tracker.relock_hold", "s", 0...10,
               "how long the looser tracker's tempo must have held (no jump above 5 % between frames) "
               + "before it is handed over",
               \.tracker.relockHold),
        double("tracker.relock_lambda", "", 1...10_000, "tempo change penalty of the looser tracker",
               \.tracker.relockLambda),
        double("tracker.relock_reset_rate", "1/s", 0...1, "reset rate of the looser tracker",
               \.tracker.relockResetRate),
        choice("emission.mode", "predictive: beats sent ahead once locked; reactive: madmom's online tracker exactly",
               \.emission.mode),
        double("emission.lead", "s", 0...0.25, "how early a predicted beat is sent", \.emission.lead),
        double("emission.lock_threshold", "", 0.01...1,
               "tracker confidence above which beats are predicted", \.emission.lockThreshold),
        double("emission.offset", "s", -0.1...0.1,
               "added to every predictive beat time, on top of the model's own calibration (a trim for your setup)",
               \.emission.offset),
        double("emission.gate_level", "dBFS", -200...0, "quieter hops close the gate (no beats)", \.emission.gateLevel),
        double("emission.gate_activation", "", 0...1,
               "network activation a gate onset must reach (0 = no activation gate)", \.emission.gateActivation),
        double("emission.gate_contrast", "ratio", 0...100,
               "the gate wants the input's spectral flux to rise to this multiple of its 1 s mean "
               + "twice within 8 s (0 = off)",
               \.emission.gateContrast),
        int("emission.gate_changes", "changes", 1...16,
            "rises of the input's flux to gate_contrast needed within 8 s", \.emission.gateChanges),
        double("emission.gate_soft_contrast", "ratio", 0...100,
               "or: the input's flux rises to this multiple of its mean gate_soft_changes times within 8 s (0 = off)",
               \.emission.gateSoftContrast),
        int("emission.gate_soft_changes", "changes", 1...16,
            "rises to gate_soft_contrast needed within 8 s", \.emission.gateSoftChanges),
        double("emission.gate_hold", "s", 0.1...30, "how long an activation peak keeps the gate open",
               \.emission.gateHold),
        double("emission.gate_silence", "s", 0.01...30,
               "the gate also closes once the input has been quieter than gate_level this long",
               \.emission.gateSilence),
        int("emission.gate_onsets", "onsets", 1...8,
            "rising crossings of gate_activation needed within gate_hold to open the gate", \.emission.gateOnsets),
        double("onset.mean_window", "s", 0.01...10,
               "causal moving mean removed from the spectral flux (no-model fallback)", \.onset.meanWindow),
        double("onset.peak_half_life", "s", 0.1...600,
               "half-life of the running peak that scales the flux to [0, 1]", \.onset.peakHalfLife),
        float("onset.floor", "flux", 0.001...1_000,
              "smallest scale, so near-silence is not amplified", \.onset.floor),
        double("onset.gate_activation", "", 0...1,
               "the gate's activation threshold with the onset fallback", \.onset.gateActivation),
        double("onset.beat_offset", "s", -0.1...0.1,
               "timing calibration of predictive beats with the onset fallback (a model file carries its own)",
               \.onset.beatOffset),
        float("onset.activation_floor", "", 0...0.4,
              "activations are mapped into [floor, 1 - floor]; 0 would forbid beats where no onset is",
              \.onset.activationFloor),
        string("model.path",
               "beat network: builtin (default) = Tactus's own model, or a weight file; "
               + "empty = spectral-flux onset fallback",
               \.modelPath),
        choice("capture.source", "alsa: a capture device; file: an audio file at real-time pace", \.capture.source),
        string("capture.device", "ALSA device name (default, hw:CARD=...,DEV=0, plughw:..., an asoundrc PCM)",
               \.capture.device),
        string("capture.file", "audio file played at real-time pace when source = file", \.capture.file),
        bool("capture.loop", "play the file again when it ends", \.capture.loop),
        int("capture.channel", "", -1...63, "input channel (0-based); -1 mixes all channels", \.capture.channel),
        int("capture.period_hops", "hops", 1...8, "ALSA period, in hops of the processing rate", \.capture.periodHops),
        double("capture.ring_seconds", "s", 0.1...30, "capacity of the capture-to-processing ring",
               \.capture.ringSeconds),
        int("capture.realtime_priority", "", 0...99, "SCHED_FIFO priority of the capture thread; 0 = none",
            \.capture.realtimePriority),
        double("capture.retry_max", "s", 0.25...300, "longest wait between attempts to open a missing device",
               \.capture.retryMax),
        string("output.osc_targets",
               "OSC targets, comma-separated host:port[/preset]; presets: generic, qlcplus, resolume, grandma3",
               \.output.oscTargets),
        bool("output.stdout", "JSON lines on stdout", \.output.stdout),
        string("output.jsonl_socket", "UNIX socket serving JSON lines (tactus monitor); empty = none",
               \.output.jsonlSocket),
        string("output.jsonl_socket_mode", "permission bits of the socket, octal 000-777 (0660: owner and group)",
               \.output.jsonlSocketMode),
        string("output.jsonl_socket_group", "group of the socket; empty = the daemon's own group",
               \.output.jsonlSocketGroup),
        string("output.jsonl_udp", "JSON lines as UDP datagrams to host:port; empty = none", \.output.jsonlUDP),
        string("output.qlc_path", "OSC address of the QLC+ button (preset qlcplus)", \.output.qlcPath),
        string("output.qlc_bar_path", "OSC address of the QLC+ bar button, pressed on beat 1 of each bar; empty = none",
               \.output.qlcBarPath),
        string("output.qlc_phrase_path",
               "OSC address of the QLC+ phrase button, pressed on each phrase's first beat; empty = none",
               \.output.qlcPhrasePath),
        string("output.ma3_command", "grandMA3 command line on tempo changes; %bpm = tempo (preset grandma3)",
               \.output.ma3Command),
        bool("output.osc_timetags",
             "predicted beats in bundles timetagged with the beat time; false = plain, lead early",
             \.output.oscTimetags),
        double("output.osc_phase_rate", "Hz", 0...100, "/tactus/phase messages per second to generic targets; 0 = off",
               \.output.oscPhaseRate),
        int("output.osc_ttl", "hops", 1...255, "multicast TTL", \.output.oscTTL),
        string("output.osc_interface", "multicast interface name; empty = default", \.output.oscInterface),
        string("output.midi_rtp_peer", "MIDI clock over RTP-MIDI to this peer's control port, host:port; empty = none",
               \.output.midiRTPPeer),
        string("output.midi_rtp_name", "RTP-MIDI session name", \.output.midiRTPName),
        bool("output.midi_alsa", "MIDI clock to the ALSA sequencer (client Tactus, port clock)", \.output.midiALSA),
        string("output.midi_alsa_connect", "connect the sequencer port to this port at start; empty = none",
               \.output.midiALSAConnect),
        double("output.midi_max_change", "", 0.001...0.2, "largest change of the MIDI clock's tick period per beat",
               \.output.midiMaxChange),
        string("control.listen", "OSC commands over UDP on host:port (numeric host); empty = off", \.control.listen),
        string("control.allow",
               "sources besides loopback that may send commands: addresses or CIDR prefixes, comma-separated",
               \.control.allow),
        double("control.max_rate", "1/s", 1...1_000, "commands accepted per second from each input; more are dropped",
               \.control.maxRate),
        bool("control.socket_commands", "the JSON-line socket takes commands", \.control.socketCommands),
        string("web.listen", "HTTP (page, WebSocket, /metrics) on host:port (numeric host); empty = off", \.web.listen),
        string("web.token", "secret the page and the API must present; needed when web.listen is not loopback",
               \.web.token),
        int("web.max_clients", "pages", 1...64, "live pages (WebSocket clients) at once", \.web.maxClients),
        double("web.update_rate", "Hz", 1...60, "activation pushes to the page per second (status: 4)",
               \.web.updateRate),
        choice("service.log_level", "lowest level logged", \.service.logLevel),
        double("service.status_interval", "s", 0.1...60, "how often the status (systemd STATUS=) is refreshed",
               \.service.statusInterval),
    ]

    public static func parameter(_ key: String) -> Parameter? { all.first { $0.key == key } }

    static func string(_ key: String, _ summary: String,
                       _ path: WritableKeyPath<TactusConfig, String> & Sendable) -> Parameter {
        Parameter(key: key, unit: "", kind: .string, summary: summary, get: { .string($0[keyPath: path]) },
                  set: { c, v in if case .string(let s) = v { c[keyPath: path] = s } })
    }

    static func bool(_ key: String, _ summary: String,
                     _ path: WritableKeyPath<TactusConfig, Bool> & Sendable) -> Parameter {
        Parameter(key: key, unit: "", kind: .bool, summary: summary, get: { .bool($0[keyPath: path]) },
                  set: { c, v in if case .bool(let b) = v { c[keyPath: path] = b } })
    }

    static func choice<E: RawRepresentable & CaseIterable & Sendable>(
        _ key: String, _ summary: String, _ path: WritableKeyPath<TactusConfig, E> & Sendable
    ) -> Parameter where E.RawValue == String {
        Parameter(key: key, unit: "", kind: .choice(E.allCases.map(\.rawValue)), summary: summary,
                  get: { .string($0[keyPath: path].rawValue) },
                  set: { c, v in if case .string(let s) = v, let e = E(rawValue: s) { c[keyPath: path] = e } })
    }
}
