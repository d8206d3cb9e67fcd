import TactusCore

public struct TrackResult: Sendable {
    public var beats: [BeatEvent]
    /// Per-frame results (activation, tracker state, gate), when asked for.
    public var frames: [FrameResult]?
    /// Per-frame activations, when asked for.
    public var activations: [Float]? { frames?.map(\.activation) }
    /// Processed duration (s) at the processing rate.
    public var duration: Double
    /// Samples that were NaN, infinite or beyond ±64 (a broken file): entered as silence or clipped.
    public var repairedSamples = 0
}

/// File mode: runs samples from a file (or memory) through the same core pipeline the daemon uses.
public enum FileTracker {
    /// `onFrame` sees every frame as it is made (`--activations` streams them to its file
    /// instead of holding hours of frames in memory). `controls`: operator commands, each applied
    /// after the first frame at or past its time.
    public static func track(path: String, config: TactusConfig, model: ModelSpec?, keepFrames: Bool = false,
                             controls: [TimedCommand] = [],
                             onFrame: ((FrameResult) -> Void)? = nil) throws -> TrackResult {
        let pipeline = try BeatPipeline(config: config, model: model)
        let reader = try AudioFileReader(path: path)
        var collector = Collector(keepFrames: keepFrames, pipeline: pipeline, controls: controls, onFrame: onFrame)
        try reader.read(resampledTo: config.features.sampleRate) { block in
            pipeline.process(block) { collector.add($0) }
        }
        var result = collector.result(samples: pipeline.framer.samplesConsumed, rate: config.features.sampleRate)
        result.repairedSamples = pipeline.framer.repairedSamples
        return result
    }

    public static func track(samples: [Float], config: TactusConfig, model: ModelSpec?, keepFrames: Bool = false,
                             controls: [TimedCommand] = [],
                             onFrame: ((FrameResult) -> Void)? = nil) throws -> TrackResult {
        let pipeline = try BeatPipeline(config: config, model: model)
        var collector = Collector(keepFrames: keepFrames, pipeline: pipeline, controls: controls, onFrame: onFrame)
        samples.withUnsafeBufferPointer { all in pipeline.process(all) { collector.add($0) } }
        var result = collector.result(samples: pipeline.framer.samplesConsumed, rate: config.features.sampleRate)
        result.repairedSamples = pipeline.framer.repairedSamples
        return result
    }

    private struct Collector {
        let keepFrames: Bool
        let onFrame: ((FrameResult) -> Void)?
        let pipeline: BeatPipeline
        var controls: ArraySlice<TimedCommand>
        var beats: [BeatEvent] = []
        var frames: [FrameResult] = []

        init(keepFrames: Bool, pipeline: BeatPipeline, controls: [TimedCommand], onFrame: ((FrameResult) -> Void)?) {
            self.keepFrames = keepFrames
            self.pipeline = pipeline
            self.controls = controls.sorted { $0.time < $1.time }[...]
            self.onFrame = onFrame
        }

        mutating func add(_ r: FrameResult) {
            if keepFrames { frames.append(r) }
            onFrame?(r)
            if let event = r.event { beats.append(event) }
            // At the hop boundary after this frame, as the daemon applies them.
            while let c = controls.first, c.time <= r.time {
                pipeline.control(c.command, at: c.time)
                controls = controls.dropFirst()
            }
        }

        func result(samples: Int, rate: Double) -> TrackResult {
            TrackResult(beats: beats, frames: keepFrames ? frames : nil, duration: Double(samples) / rate)
        }
    }
}
