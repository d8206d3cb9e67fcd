/// Every tunable of the pipeline, in one place. Keys, units, ranges and help live in
/// `ParameterTable`; `config/tactus.toml` documents them for users.
public struct TactusConfig: Sendable, Equatable {
    public var features = FeatureConfig()
    public var tracker = TrackerConfig()
    public var onset = OnsetConfig()
    public var emission = EmissionConfig()
    public var capture = CaptureConfig()
    public var service = ServiceConfig()
    public var output = OutputConfig()
    public var control = ControlConfig()
    public var web = WebConfig()
    /// The beat network: "builtin" (Tactus's own model, compiled in; the default), a weight file,
    /// or empty for the spectral-flux onset fallback. On the 5-fold cross-validation over all 44
    /// real files the built-in model, mixed with the onset function as its file says, beats the
    /// onset function alone (predictive F 0.761 against 0.743, CMLt 0.598 against 0.520;
    /// bench/RESULTS.md issue 4).
    public var modelPath: String = "builtin"

    public init() {}

    /// Checks the relations between parameters that single ranges cannot express.
    public func validate() throws(ConfigError) {
        for p in ParameterTable.all { try p.check(p.get(self)) }
        if tracker.minBPM >= tracker.maxBPM {
            throw .invalid(key: "tracker.min_bpm", "must be below tracker.max_bpm (\(tracker.maxBPM))")
        }
        if features.hopSize > features.frameSize {
            throw .invalid(key: "features.hop_size", "must not exceed features.frame_size (\(features.frameSize))")
        }
        if features.minFrequency >= features.maxFrequency {
            throw .invalid(key: "features.min_frequency", "must be below features.max_frequency")
        }
        if features.maxFrequency > features.sampleRate / 2 {
            throw .invalid(key: "features.max_frequency", "must not exceed half the sample rate")
        }
        if emission.lead >= 60 / tracker.maxBPM {
            throw .invalid(key: "emission.lead", "must be shorter than the shortest beat period (60/tracker.max_bpm s)")
        }
        if features.frameSize % 2 != 0 {
            throw .invalid(key: "features.frame_size", "must be even")
        }
        for target in try OSCTargetSpec.list(output.oscTargets) {
            if let lead = target.lead, lead > emission.lead {
                throw .invalid(key: "output.osc_targets",
                               "'\(target.address)': +lead=\(lead) is more than emission.lead "
                               + "(\(emission.lead) s): beats are known only that early")
            }
        }
        if !output.jsonlUDP.isEmpty { try HostPort.parse(output.jsonlUDP, key: "output.jsonl_udp") }
        if !output.midiRTPPeer.isEmpty { try HostPort.parse(output.midiRTPPeer, key: "output.midi_rtp_peer") }
        if output.socketMode == nil {
            throw .invalid(key: "output.jsonl_socket_mode", "'\(output.jsonlSocketMode)' is not an octal mode 000-777")
        }
        if !control.listen.isEmpty { try AddressFilter.checkListen(control.listen) }
        _ = try AddressFilter(control.allow)
        if !web.listen.isEmpty {
            let (host, _) = try HostPort.parse(web.listen, key: "web.listen", anyPort: true)
            guard AddressFilter.address(host) != nil else {
                throw .invalid(key: "web.listen",
                               "'\(web.listen)': the host must be a numeric address (127.0.0.1, 0.0.0.0, [::1])")
            }
            if !web.listensOnLoopback && web.token.isEmpty {
                throw .invalid(key: "web.token", "web.listen '\(web.listen)' is not loopback: set web.token "
                               + "(a secret the page asks for once), or listen on 127.0.0.1")
            }
        }
        if web.token.utf8.count > 256
            || web.token.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 0x21 || $0 > 0x7E } ?? true }) {
            throw .invalid(key: "web.token", "at most 256 printable ASCII characters without blanks")
        }
        for (key, path) in [("output.qlc_bar_path", output.qlcBarPath),
                            ("output.qlc_phrase_path", output.qlcPhrasePath)]
        where !path.isEmpty && !path.hasPrefix("/") {
            throw .invalid(key: key, "'\(path)': an OSC address starts with /")
        }
        if capture.source == .file && capture.file.isEmpty {
            throw .invalid(key: "capture.file", "capture.source = \"file\" needs a file")
        }
        try ResourceEstimate(self).check()
    }

    /// madmom 0.16.1's online tracker exactly (reactive emission); with a model, its networks.
    public static var madmom: TactusConfig {
        var c = TactusConfig()
        c.emission.mode = .reactive
        return c
    }

    /// Sets one parameter from its text form (`--set key=value` on the command line).
    public mutating func set(_ key: String, text: String) throws(ConfigError) {
        guard let p = ParameterTable.parameter(key) else { throw .unknownKey(key) }
        try set(key, value: p.parse(text))
    }

    /// Sets one parameter from a typed value (a config file); checks type and range.
    public mutating func set(_ key: String, value: ParameterValue) throws(ConfigError) {
        guard let p = ParameterTable.parameter(key) else { throw .unknownKey(key) }
        try p.check(value)
        p.set(&self, value)
    }
}

public enum ConfigError: Error, Equatable, CustomStringConvertible {
    case unknownKey(String)
    case invalid(key: String, String)

    public var description: String {
        switch self {
        case .unknownKey(let k):
            // The keys of its section when the section exists, else the sections.
            let section = k.split(separator: ".").first.map { String($0) + "." } ?? ""
            let near = ParameterTable.all.map(\.key).filter { $0.hasPrefix(section) }
            if !near.isEmpty {
                return "unknown key '\(k)' (keys of [\(section.dropLast())]: \(near.joined(separator: ", ")))"
            }
            var sections: [String] = []
            for p in ParameterTable.all {
                let s = String(p.key.prefix { $0 != "." })
                if !sections.contains(s) { sections.append(s) }
            }
            return "unknown key '\(k)' (sections: \(sections.joined(separator: ", ")); `tactus params` lists every key)"
        case .invalid(let k, let why): return "\(k): \(why)"
        }
    }
}
