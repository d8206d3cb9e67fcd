/// One frame's result, handed out by `BeatPipeline.process`.
public struct FrameResult: Sendable, Equatable {
    /// Frame index; the frame ends at stream sample `frame · hop`.
    public var frame: Int
    /// Frame time on the stream clock (s): its last sample's time.
    public var time: Double
    public var activation: Float
    public var tracker: TrackerStep
    /// The beat event this frame sent, if any.
    public var event: BeatEvent?
    /// Whether the signal gate was open (always true in reactive mode).
    public var gateOpen: Bool
    /// Level of the newest hop (dBFS).
    public var level: Double
    /// Whether the emitter is locked (predicting beats ahead); always false in reactive mode.
    public var locked: Bool = false
    /// Input novelty (spectral flux over its 1 s running mean), as the gate sees it.
    public var novelty: Double = 0
}

/// The pure core, end to end: samples in, per-frame activations and beats out. File mode and the
/// daemon both feed it; it holds all its buffers from `init` on and allocates nothing per hop.
public final class BeatPipeline {
    public private(set) var config: TactusConfig
    public let framer: Framer
    public let features: BeatFeatures
    public let activation: any BeatActivationFunction
    public let tracker: ForwardBeatTracker
    /// The looser tracker of the re-lock test (predictive mode with tracker.relock_threshold > 0).
    public let explorer: ForwardBeatTracker?
    public private(set) var relock: RelockDetector
    public let gate: SignalGate
    public private(set) var emitter: BeatEmitter
    /// The operator's state (issue 20): commands arrive through `control(_:at:)`.
    public let controlState: StageControl

    /// `model`: a validated network, or nil for the spectral-flux fallback.
    public init(config: TactusConfig, model: ModelSpec?) throws(PipelineError) {
        self.config = config
        framer = Framer(frameSize: config.features.frameSize, hopSize: config.features.hopSize)
        features = BeatFeatures(config: config.features)
        let bandCount = features.bandCount
        let onset = {
            SpectralFluxOnset(bandCount: bandCount, frameRate: config.features.frameRate, config: config.onset)
        }
        if let model {
            guard model.inputCount == features.count else {
                throw .modelMismatch("the model reads \(model.inputCount) features per frame; "
                    + "the feature stage makes \(features.count)")
            }
            let network = NeuralNetworkEnsemble(model)
            if model.onsetMix > 0 {
                activation = BlendedActivation(network: network, onset: onset(), mix: model.onsetMix)
            } else {
                activation = network
            }
        } else {
            activation = onset()
        }
        let trackerConfig = Self.trackerConfig(config)
        tracker = ForwardBeatTracker(config: trackerConfig, frameRate: config.features.frameRate)
        if config.emission.mode == .predictive && trackerConfig.relockThreshold > 0 {
            var loose = trackerConfig
            loose.transitionLambda = trackerConfig.relockLambda
            loose.resetRate = trackerConfig.relockResetRate
            explorer = ForwardBeatTracker(config: loose, frameRate: config.features.frameRate)
        } else {
            explorer = nil
        }
        relock = RelockDetector(threshold: trackerConfig.relockThreshold,
                                holdFrames: Int((trackerConfig.relockHold * config.features.frameRate).rounded()))
        var gateConfig = config.emission
        // The gate's activation threshold on the scale of what drives the tracker: the onset
        // function's own, a network's, or the same mix of the two.
        let mix = model.map { $0.onsetMix } ?? 1
        gateConfig.gateActivation = (1 - mix) * config.emission.gateActivation + mix * config.onset.gateActivation
        gate = SignalGate(config: gateConfig, frameRate: config.features.frameRate)
        var emission = config.emission
        emission.offset += model?.beatOffset ?? config.onset.beatOffset
        emitter = BeatEmitter(config: emission, frameRate: config.features.frameRate)
        controlState = StageControl(frameRate: config.features.frameRate,
                                    tempoRange: trackerConfig.minBPM...trackerConfig.maxBPM)
    }

    /// Applies an operator's command (issue 20) at a hop boundary: between two calls of `process`,
    /// on the processing thread. `time`: its arrival on this pipeline's stream clock (s); by
    /// default the time of the last frame processed. It acts from the next frame on. No
    /// allocation.
    @discardableResult
    public func control(_ command: ControlCommand, at time: Double? = nil) -> ControlResult {
        controlState.apply(command, at: time ?? controlState.lastTime, tracker: tracker, explorer: explorer,
                           relock: &relock, emitter: &emitter)
    }

    /// Takes over the operator's lasting settings from the pipeline this one replaces (a reload
    /// that rebuilt it): tempo range, nudges, meter, phrase (`StageControl.adoptSettings`).
    public func takeControl(from old: BeatPipeline) {
        controlState.adoptSettings(from: old.controlState, tracker: tracker, explorer: explorer)
        if old.emitter.phaseOffset != 0 { emitter.nudge(by: old.emitter.phaseOffset) }
    }

    /// Whether a pipeline built for `new` differs from one built for `old` (same model) only in
    /// what `retune(from:)` can change in place: emission settings, not the mode or the gate's
    /// crossing counts.
    public static func canRetune(from old: TactusConfig, to new: TactusConfig) -> Bool {
        var same = old
        same.emission = new.emission
        let (a, b) = (old.emission, new.emission)
        return same == new && a.mode == b.mode && a.gateOnsets == b.gateOnsets && a.gateChanges == b.gateChanges
            && a.gateSoftChanges == b.gateSoftChanges
    }

    /// Takes `other`'s emission settings (lead, offset, lock threshold, gate) at a hop boundary,
    /// keeping everything the pipeline has heard and the tracker's beliefs; allocates nothing.
    public func retune(from other: BeatPipeline) {
        config.emission = other.config.emission
        gate.retune(other.gate.config)
        emitter.config = other.emitter.config
    }

    /// Reactive mode is madmom's tracker exactly: uniform start and its early-beat rule.
    static func trackerConfig(_ config: TactusConfig) -> TrackerConfig {
        var t = config.tracker
        switch config.emission.mode {
        case .reactive:
            t.startBPM = 0
            t.resetRate = 0
            t.dropEarlyBeats = true
        case .predictive:
            t.dropEarlyBeats = false
        }
        return t
    }

    /// The framer's repaired-sample count at the last frame (a change: this frame held some).
    private var repairedSeen = 0

    public func reset() {
        repairedSeen = 0
        let nudge = emitter.phaseOffset
        framer.reset(); features.reset(); activation.reset(); tracker.reset(); gate.reset(); emitter.reset()
        explorer?.reset(); relock.reset()
        // The operator's nudges, range, meter and phrase stay; a hold and the bar count do not.
        if nudge != 0 { emitter.nudge(by: nudge) }
        controlState.pipelineDidReset()
    }

    /// Feeds samples (mono, at the processing rate) in blocks of any size; calls `onFrame` for
    /// every completed frame. `period`: the capture period in samples (default: the configured one,
    /// `capture.period_hops` hops). A frame
    /// is known only when the period holding its newest sample is complete, and that is when its
    /// events can leave: they are stamped with that time, whatever blocks the caller feeds.
    public func process(_ samples: UnsafeBufferPointer<Float>, period: Int? = nil,
                        onFrame: (FrameResult) throws -> Void) rethrows {
        let hop = config.features.hopSize, rate = config.features.sampleRate
        let predictive = config.emission.mode == .predictive
        let period = max(1, period ?? hop * config.capture.periodHops)
        let periodSeconds = Double(period) / rate
        try framer.push(samples) { frame, index in
            features.process(frame)
            let a = activation.process(UnsafePointer(features.values.baseAddress!))
            let newest = UnsafeBufferPointer(rebasing: frame[(frame.count - hop)...])
            if framer.repairedSamples != repairedSeen {
                repairedSeen = framer.repairedSamples
                gate.distrustInput()
            }
            let open = gate.update(hop: newest, activation: a, flux: features.flux) || !predictive
            // A hold: the trackers hear nothing (they keep no evidence of another song).
            let informative = (gate.isInformative || !predictive) && !controlState.isHolding
            let step = tracker.process(activation: a, informative: informative)
            if let explorer {
                let loose = explorer.process(activation: a, informative: informative)
                if relock.update(logLikelihoodRatio: explorer.logEvidence - tracker.logEvidence,
                                 looseTempo: loose.tempo, mainTempo: step.tempo) {
                    tracker.adopt(explorer)
                }
            }
            let time = Double(index * hop) / rate
            let known = Double((index * hop / period + 1) * period) / rate
            var event = emitter.process(step: step, time: time, now: known, blockSeconds: periodSeconds, gateOpen: open)
            controlState.observe(step: step, time: time, activation: a)
            if var e = event {
                controlState.annotate(&e)
                event = e
            }
            try onFrame(FrameResult(frame: index, time: time, activation: a, tracker: step, event: event,
                                    gateOpen: open, level: gate.level, locked: emitter.isLocked,
                                    novelty: gate.novelty))
        }
    }
}

public enum PipelineError: Error, Equatable, CustomStringConvertible {
    case modelMismatch(String)
    public var description: String {
        switch self { case .modelMismatch(let s): return s }
    }
}
