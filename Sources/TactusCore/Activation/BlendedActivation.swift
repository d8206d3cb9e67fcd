/// A network's activation mixed with the model-free onset function's, frame by frame:
/// (1 − mix)·network + mix·onset. An ensemble of two activation functions with different errors
/// (a small network that misses unfamiliar music, a flux that hears every onset but not which
/// ones are beats), as madmom averages its networks. The mix is the model's own (`onset_mix` in
/// its metadata), chosen on held-out cross-validation predictions. No allocation after `init`.
public final class BlendedActivation: BeatActivationFunction {
    public let network: NeuralNetworkEnsemble
    public let onset: SpectralFluxOnset
    /// Share of the onset function, in (0, 1].
    public let mix: Float
    public var inputCount: Int { network.inputCount }

    public init(network: NeuralNetworkEnsemble, onset: SpectralFluxOnset, mix: Double) {
        precondition(network.inputCount == onset.inputCount, "both read the same feature vector")
        self.network = network
        self.onset = onset
        self.mix = Float(mix)
    }

    public func process(_ features: UnsafePointer<Float>) -> Float {
        let n = network.process(features), o = onset.process(features)
        return (1 - mix) * n + mix * o
    }

    public func reset() {
        network.reset()
        onset.reset()
    }
}
