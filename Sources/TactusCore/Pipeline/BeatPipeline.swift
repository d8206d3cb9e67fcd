/// One frame's result, handed out by `BeatPipeline.process`.
public struct FrameResult: Sendable, Equatable {
    /// Frame index; the frame ends at stream sample `frame · hop`.
    public var frame: Int
    /// Frame time on the stream clock (s): its last sample's time.
    public var time: Double
    public var activation: Float
    public var tracker: TrackerStep
}

/// The pure core, end to end: samples in, per-frame activations and beats out. File mode and the
/// daemon both feed it; it holds all its buffers from `init` on and allocates nothing per hop.
public final class BeatPipeline {
    public let config: TactusConfig
    public let framer: Framer
    public let features: BeatFeatures
    public let activation: any BeatActivationFunction
    public let tracker: ForwardBeatTracker

    /// `model`: a validated network, or nil for the spectral-flux fallback.
    public init(config: TactusConfig, model: ModelSpec?) throws(PipelineError) {
        self.config = config
        framer = Framer(frameSize: config.features.frameSize, hopSize: config.features.hopSize)
        features = BeatFeatures(config: config.features)
        if let model {
            guard model.inputCount == features.count else {
                throw .modelMismatch("the model reads \(model.inputCount) features per frame; "
                    + "the feature stage makes \(features.count)")
            }
            activation = NeuralNetworkEnsemble(model)
        } else {
            activation = SpectralFluxOnset(bandCount: features.bandCount, frameRate: config.features.frameRate,
                                           config: config.onset)
        }
        tracker = ForwardBeatTracker(config: config.tracker, frameRate: config.features.frameRate)
    }

    public func reset() {
        framer.reset(); features.reset(); activation.reset(); tracker.reset()
    }

    /// Feeds samples (mono, at the processing rate); calls `onFrame` for every completed frame.
    public func process(_ samples: UnsafeBufferPointer<Float>, onFrame: (FrameResult) throws -> Void) rethrows {
        let hop = Double(config.features.hopSize), rate = config.features.sampleRate
        try framer.push(samples) { frame, index in
            features.process(frame)
            let a = activation.process(UnsafePointer(features.values.baseAddress!))
            let step = tracker.process(activation: a)
            try onFrame(FrameResult(frame: index, time: Double(index) * hop / rate, activation: a, tracker: step))
        }
    }
}

public enum PipelineError: Error, Equatable, CustomStringConvertible {
    case modelMismatch(String)
    public var description: String {
        switch self { case .modelMismatch(let s): return s }
    }
}
