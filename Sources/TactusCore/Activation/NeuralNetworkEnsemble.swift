/// A per-frame beat activation: a function of the feature vector and of its own past.
public protocol BeatActivationFunction: AnyObject {
    /// Length of the feature vector it reads.
    var inputCount: Int { get }
    /// Activation in [0, 1] for one frame's features.
    func process(_ features: UnsafePointer<Float>) -> Float
    /// Forgets all past frames.
    func reset()
}

/// Runs an ensemble of causal networks hop by hop and averages their outputs (madmom's
/// `NeuralNetworkEnsemble` with `average_predictions`). No allocation after `init`.
public final class NeuralNetworkEnsemble: BeatActivationFunction {
    public let spec: ModelSpec
    public let inputCount: Int
    /// Layers of every network, flattened: network n is `layers[offsets[n] ..< offsets[n + 1]]`.
    /// Flat class references, so that stepping allocates nothing even in debug builds.
    private let layers: [any NetworkLayer]
    private let offsets: [Int]

    /// `spec` must have been validated (`ModelSpec.validate`).
    public init(_ spec: ModelSpec) {
        self.spec = spec
        inputCount = spec.inputCount
        var layers: [any NetworkLayer] = []
        var offsets = [0]
        for network in spec.networks {
            for layer in network.layers {
                switch layer {
                case .lstm(let l): layers.append(LSTMLayer(l))
                case .dense(let d): layers.append(DenseLayer(d))
                }
            }
            offsets.append(layers.count)
        }
        self.layers = layers
        self.offsets = offsets
    }

    public func process(_ features: UnsafePointer<Float>) -> Float {
        var sum: Float = 0
        let networkCount = offsets.count - 1
        for n in 0..<networkCount {
            var x = features
            for i in offsets[n]..<offsets[n + 1] {
                layers[i].step(x)
                x = UnsafePointer(layers[i].output)
            }
            sum += x[0]
        }
        return sum / Float(networkCount)
    }

    public func reset() {
        for layer in layers { layer.reset() }
    }
}

/// A layer stepped one frame at a time; `output` holds its last result.
protocol NetworkLayer: AnyObject {
    var output: UnsafeMutablePointer<Float> { get }
    func step(_ x: UnsafePointer<Float>)
    func reset()
}
