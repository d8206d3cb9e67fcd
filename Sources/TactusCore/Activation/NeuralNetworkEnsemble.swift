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
    private let networks: [[Layer]]

    private enum Layer {
        case lstm(LSTMLayer)
        case dense(DenseLayer)

        var output: UnsafeMutablePointer<Float> {
            switch self {
            case .lstm(let l): return l.output
            case .dense(let d): return d.output
            }
        }

        func step(_ x: UnsafePointer<Float>) {
            switch self {
            case .lstm(let l): l.step(x)
            case .dense(let d): d.step(x)
            }
        }
    }

    /// `spec` must have been validated (`ModelSpec.validate`).
    public init(_ spec: ModelSpec) {
        self.spec = spec
        inputCount = spec.inputCount
        networks = spec.networks.map { network in
            network.layers.map { layer -> Layer in
                switch layer {
                case .lstm(let l): return .lstm(LSTMLayer(l))
                case .dense(let d): return .dense(DenseLayer(d))
                }
            }
        }
    }

    public func process(_ features: UnsafePointer<Float>) -> Float {
        var sum: Float = 0
        for network in networks {
            var x = features
            for layer in network {
                layer.step(x)
                x = UnsafePointer(layer.output)
            }
            sum += x[0]
        }
        return sum / Float(networks.count)
    }

    public func reset() {
        for network in networks {
            for case .lstm(let l) in network { l.reset() }
        }
    }
}
