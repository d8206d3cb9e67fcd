/// A parameter's value, as the CLI and config files carry it.
public enum ParameterValue: Sendable, Equatable, CustomStringConvertible {
    case int(Int)
    case double(Double)
    case string(String)

    public var description: String {
        switch self {
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
        }
    }

    func parse(_ text: String) throws(ConfigError) -> ParameterValue {
        switch kind {
        case .int:
            guard let v = Int(text) else { throw .invalid(key: key, "'\(text)' is not an integer") }
            return .int(v)
        case .double:
            guard let v = Double(text), v.isFinite else { throw .invalid(key: key, "'\(text)' is not a number") }
            return .double(v)
        case .string, .choice:
            return .string(text)
        }
    }

    /// Checks type and range; an integer is accepted where a number is expected.
    public func check(_ value: ParameterValue) throws(ConfigError) {
        switch (kind, value) {
        case (.int(let r), .int(let v)):
            guard r.contains(v) else { throw .invalid(key: key, "\(v) is outside \(rangeDescription) \(unit)") }
        case (.double(let r), .double(let v)):
            guard v.isFinite, r.contains(v) else { throw .invalid(key: key, "\(v) is outside \(rangeDescription) \(unit)") }
        case (.double(let r), .int(let v)):
            guard r.contains(Double(v)) else { throw .invalid(key: key, "\(v) is outside \(rangeDescription) \(unit)") }
        case (.string, .string):
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
        float("features.log_multiplier", "", 1e-6...1e6, "log compression: log10(mul*x + add), mul", \.features.logMultiplier),
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
        Parameter(key: "emission.mode", unit: "", kind: .choice(EmissionConfig.Mode.allCases.map(\.rawValue)),
                  summary: "predictive: beats sent ahead once locked; reactive: madmom's online tracker exactly",
                  get: { .string($0.emission.mode.rawValue) },
                  set: { c, v in if case .string(let s) = v, let m = EmissionConfig.Mode(rawValue: s) { c.emission.mode = m } }),
        double("emission.lead", "s", 0...0.25, "how early a predicted beat is sent", \.emission.lead),
        double("emission.lock_threshold", "", 0.01...1,
               "tracker confidence above which beats are predicted", \.emission.lockThreshold),
        double("emission.offset", "s", -0.1...0.1, "added to every beat time (activation lag correction)",
               \.emission.offset),
        double("emission.gate_level", "dBFS", -200...0, "quieter hops close the gate (no beats)", \.emission.gateLevel),
        double("emission.gate_activation", "", 0...1,
               "network activation a gate onset must reach (0 = no activation gate)", \.emission.gateActivation),
        double("emission.gate_hold", "s", 0.1...30, "how long an activation peak keeps the gate open",
               \.emission.gateHold),
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
        float("onset.activation_floor", "", 0...0.4,
              "activations are mapped into [floor, 1 - floor]; 0 would forbid beats where no onset is", \.onset.activationFloor),
        Parameter(key: "model.path", unit: "", kind: .string,
                  summary: "beat network weight file; empty = spectral-flux onset fallback",
                  get: { .string($0.modelPath) },
                  set: { c, v in if case .string(let s) = v { c.modelPath = s } }),
    ]

    public static func parameter(_ key: String) -> Parameter? { all.first { $0.key == key } }
}
