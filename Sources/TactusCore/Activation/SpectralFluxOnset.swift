import Glibc

/// Model-free beat activation: spectral flux (the sum of the positive log-spectral differences
/// already in the feature vector), with a causal moving mean removed and a decaying running peak
/// as the scale, so the output lies in [0, 1] whatever the input level.
public final class SpectralFluxOnset: BeatActivationFunction {
    public let inputCount: Int
    public let config: OnsetConfig
    private let bandCount: Int
    private let meanWindow: Int
    private let recent: UnsafeMutablePointer<Float>
    private var recentPosition = 0
    private var recentSum: Float = 0
    private var peak: Float
    private let peakDecay: Float

    /// `bandCount`: bands of the log spectrum; the difference half follows it in the feature vector.
    public init(bandCount: Int, frameRate: Double, config: OnsetConfig = OnsetConfig()) {
        self.bandCount = bandCount
        self.config = config
        inputCount = 2 * bandCount
        meanWindow = max(1, Int((config.meanWindow * frameRate).rounded()))
        recent = .allocate(capacity: meanWindow)
        recent.initialize(repeating: 0, count: meanWindow)
        peak = config.floor
        // Per-frame factor that halves the running peak every `peakHalfLife` seconds.
        peakDecay = Float(pow2(-1 / (config.peakHalfLife * frameRate)))
    }

    deinit { recent.deallocate() }

    public func reset() {
        recent.update(repeating: 0, count: meanWindow)
        recentPosition = 0
        recentSum = 0
        peak = config.floor
    }

    public func process(_ features: UnsafePointer<Float>) -> Float {
        let diff = features + bandCount
        var flux: Float = 0
        for b in 0..<bandCount where diff[b].isFinite { flux += diff[b] }
        // Causal mean over the last `meanWindow` frames (this one excluded).
        let mean = recentSum / Float(meanWindow)
        recentSum += flux - recent[recentPosition]
        recent[recentPosition] = flux
        recentPosition = recentPosition + 1 == meanWindow ? 0 : recentPosition + 1
        let onset = max(flux - mean, 0)
        peak = max(onset, max(peak * peakDecay, config.floor))
        // Never exactly 0 or 1: the DBN reads an activation of 0 as "a beat is impossible here",
        // which makes it brittle when a single onset is missing.
        let low = config.activationFloor
        return low + (1 - 2 * low) * min(onset / peak, 1)
    }
}

/// Parameters of the model-free onset activation.
public struct OnsetConfig: Sendable, Equatable {
    /// Length of the causal moving mean subtracted from the flux (s).
    public var meanWindow: Double = 0.5
    /// Half-life of the running peak used as the scale (s).
    public var peakHalfLife: Double = 5
    /// Smallest scale, so that near-silence is not amplified to full activations (flux units).
    public var floor: Float = 10
    /// Smallest and (1 − it) largest activation.
    public var activationFloor: Float = 0.02
    /// The signal gate's activation threshold when this function drives the tracker (its scale is
    /// not a network's): 0.15 gives no beats in −40 dBFS pink noise (train split).
    public var gateActivation: Double = 0.15
    /// Timing calibration of predictive beats with this function (s), as a model file's
    /// `beat_offset`: minus their mean signed error on the train split with the offset at 0 (+5.8 ms;
    /// +3.3 ms before beats were predicted from each frame's posterior).
    public var beatOffset: Double = -0.006

    public init() {}
}

@inline(__always) private func pow2(_ x: Double) -> Double {
    // 2^x without Foundation, via exp2 from the C library.
    exp2(x)
}
