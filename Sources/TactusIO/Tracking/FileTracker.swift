import TactusCore

/// A beat found in file mode.
public struct TrackedBeat: Sendable, Equatable {
    /// Beat time on the stream clock (s).
    public var time: Double
    /// Emission time: the stream time of the last sample consumed when the beat was decided (s).
    public var emissionTime: Double
    /// Tempo of the tracker state at the beat (BPM).
    public var tempo: Double
    /// Activation of the frame.
    public var activation: Float
    /// Running beat count, from 1.
    public var count: Int
}

public struct TrackResult: Sendable {
    public var beats: [TrackedBeat]
    /// Per-frame activations, when asked for.
    public var activations: [Float]?
    /// Processed duration (s) at the processing rate.
    public var duration: Double
}

/// File mode: runs samples from a file (or memory) through the same core pipeline the daemon uses.
public enum FileTracker {
    public static func track(path: String, config: TactusConfig, model: ModelSpec?,
                             keepActivations: Bool = false) throws -> TrackResult {
        let pipeline = try BeatPipeline(config: config, model: model)
        let reader = try AudioFileReader(path: path)
        var collector = Collector(keepActivations: keepActivations, hop: config.features.hopSize,
                                  rate: config.features.sampleRate)
        try reader.read(resampledTo: config.features.sampleRate) { block in
            pipeline.process(block) { collector.add($0) }
        }
        return collector.result(samples: pipeline.framer.samplesConsumed, rate: config.features.sampleRate)
    }

    public static func track(samples: [Float], config: TactusConfig, model: ModelSpec?,
                             keepActivations: Bool = false) throws -> TrackResult {
        let pipeline = try BeatPipeline(config: config, model: model)
        var collector = Collector(keepActivations: keepActivations, hop: config.features.hopSize,
                                  rate: config.features.sampleRate)
        let block = 4096
        samples.withUnsafeBufferPointer { all in
            var offset = 0
            while offset < all.count {
                let n = min(block, all.count - offset)
                pipeline.process(UnsafeBufferPointer(rebasing: all[offset..<(offset + n)])) { collector.add($0) }
                offset += n
            }
        }
        return collector.result(samples: pipeline.framer.samplesConsumed, rate: config.features.sampleRate)
    }

    private struct Collector {
        let keepActivations: Bool
        let hop: Int
        let rate: Double
        var beats: [TrackedBeat] = []
        var activations: [Float] = []

        init(keepActivations: Bool, hop: Int, rate: Double) {
            self.keepActivations = keepActivations
            self.hop = hop
            self.rate = rate
        }

        mutating func add(_ r: FrameResult) {
            if keepActivations { activations.append(r.activation) }
            if r.tracker.isBeat {
                beats.append(TrackedBeat(time: r.time, emissionTime: Double(r.frame * hop) / rate,
                                         tempo: r.tracker.tempo, activation: r.activation, count: beats.count + 1))
            }
        }

        func result(samples: Int, rate: Double) -> TrackResult {
            TrackResult(beats: beats, activations: keepActivations ? activations : nil,
                        duration: Double(samples) / rate)
        }
    }
}
