import Glibc

/// What a configuration will cost before anything is allocated: the beat state space's size and
/// memory, and the work per second of audio. Settings that are each in range can still multiply
/// into hundreds of gigabytes (`features.hop_size = 1` with `tracker.min_bpm = 10`: 44,100
/// frames/s and beat intervals up to 264,600 frames); `validate()` rejects those by name instead
/// of letting the allocator abort the daemon (docs/safety.md, "Limits").
public struct ResourceEstimate: Sendable, Equatable {
    /// Frames per second (sample rate / hop).
    public let frameRate: Double
    /// Tempo states and beat states of one tracker (BeatStateSpace, without building it).
    public let tempoCount: Int
    public let stateCount: Int
    /// Forward trackers run per frame: the main one, and the re-lock test's looser one.
    public let trackers: Int
    /// Memory the trackers, the feature stage and the capture ring allocate (bytes).
    public let memoryBytes: Double
    /// Beat-state updates per second of audio (all trackers).
    public let stateUpdatesPerSecond: Double

    /// 512 MiB: the default configuration needs about 1 MiB.
    public static let memoryLimit = 512.0 * 1024 * 1024
    /// 100 M state updates per second of audio: 180 times the default (561,700), five times the
    /// largest state space at 100 frames/s (10-1000 BPM).
    public static let stateUpdateLimit = 100e6
    /// The network, the DBN and emission run once per frame; madmom's features are made for 100
    /// frames/s. 1,000 frames/s is 1 ms per frame, ten times the default work per second.
    public static let frameRateLimit = 1_000.0

    public init(_ config: TactusConfig) {
        frameRate = config.features.frameRate
        let tracker = config.tracker
        let lo = max(1, Int((60 * frameRate / tracker.maxBPM).rounded(.toNearestOrEven)))
        let hi = max(lo, Int((60 * frameRate / tracker.minBPM).rounded(.toNearestOrEven)))
        let every = hi - lo + 1
        if tracker.tempoCount > 0 && tracker.tempoCount < every {
            // Log-spaced intervals (BeatStateSpace): n of them, with the mean of a log-uniform
            // variable on [lo, hi] as their mean length.
            tempoCount = tracker.tempoCount
            let mean = hi > lo ? Double(hi - lo) / log(Double(hi) / Double(lo)) : Double(lo)
            stateCount = Int((Double(tempoCount) * mean).rounded(.up))
        } else {
            tempoCount = every
            stateCount = (lo + hi) * every / 2
        }
        trackers = config.emission.mode == .predictive && tracker.relockThreshold > 0 ? 2 : 1
        // Per tracker: 5 doubles per state (positions, intervals, initial, previous, current)
        // and about 4 tempo × tempo matrices of doubles while the transition model is built.
        let perTracker = 40 * Double(stateCount) + 32 * Double(tempoCount) * Double(tempoCount)
        let features = 64 * Double(config.features.frameSize)
        let ring = 4 * config.capture.ringSeconds * 96_000
        memoryBytes = Double(trackers) * perTracker + features + ring
        stateUpdatesPerSecond = Double(trackers) * Double(stateCount) * frameRate
    }

    /// Throws, naming the keys that set the size and what they imply, when over a limit.
    public func check() throws(ConfigError) {
        if frameRate > Self.frameRateLimit {
            throw .invalid(key: "features.hop_size", String(cFormat: "%.0f frames/s (features.sample_rate / "
                + "features.hop_size) is more than %.0f: the network and tracker run once per frame; "
                + "raise features.hop_size", frameRate, Self.frameRateLimit))
        }
        let keys = "tracker.min_bpm, tracker.max_bpm, tracker.tempo_count and features.hop_size"
        if memoryBytes > Self.memoryLimit {
            throw .invalid(key: "tracker.min_bpm", "\(keys) imply \(stateCount) beat states in \(tempoCount) tempi"
                + " × \(trackers) tracker(s): \(Self.size(memoryBytes)) of memory, more than the limit of "
                + "\(Self.size(Self.memoryLimit)); narrow the tempo range or set tracker.tempo_count")
        }
        if stateUpdatesPerSecond > Self.stateUpdateLimit {
            throw .invalid(key: "tracker.min_bpm", "\(keys) imply \(stateCount) beat states × \(trackers) tracker(s)"
                + String(cFormat: " × %.0f frames/s = %.3g state updates per second of audio, more than %.3g; ",
                         frameRate, stateUpdatesPerSecond, Self.stateUpdateLimit)
                + "narrow the tempo range or set tracker.tempo_count")
        }
    }

    static func size(_ bytes: Double) -> String {
        if bytes >= 1024 * 1024 * 1024 { return String(cFormat: "%.1f GiB", bytes / (1024 * 1024 * 1024)) }
        return String(cFormat: "%.1f MiB", bytes / (1024 * 1024))
    }
}
