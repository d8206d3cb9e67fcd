import Foundation
import TactusCore
import TactusIO
import Testing

/// Tactus's own model, as compiled into the binary: what the training exported, computing what
/// PyTorch computed (models/tactus-beats-v1.golden.txt, written by training/golden.py).
@Suite struct BuiltinModelTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func theBuiltinModelLoadsUnderItsName() throws {
        let spec = try ModelFile.load(path: ModelFile.builtinName)
        #expect(spec.inputCount == BeatFeatures(config: FeatureConfig()).count)
        #expect(spec.metadata["license"]?.hasPrefix("CC BY 4.0") == true)
    }

    @Test func theBuiltinModelIsTheFileInModels() throws {
        let file = try ModelFile.load(path: Self.root.appendingPathComponent("models/tactus-beats-v1.tnn").path)
        #expect(try ModelFile.builtin() == file)
    }

    /// Frame by frame on the features of the embedded example, the Swift network gives PyTorch's
    /// activations to 1e-4 (the conformance bar of every layer type, issue 4).
    @Test func builtinModelMatchesPyTorch() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent("models/tactus-beats-v1.golden.txt"),
                              encoding: .utf8)
        let golden = text.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { Double($0) }
        let network = NeuralNetworkEnsemble(try ModelFile.builtin())
        let config = FeatureConfig()
        let framer = Framer(frameSize: config.frameSize, hopSize: config.hopSize)
        let features = BeatFeatures(config: config)
        var activations: [Float] = []
        ExampleSignal(sampleRate: config.sampleRate).samples.withUnsafeBufferPointer { samples in
            framer.push(samples) { frame, _ in
                features.process(frame)
                activations.append(network.process(UnsafePointer(features.values.baseAddress!)))
            }
        }
        #expect(activations.count == golden.count)
        let worst = zip(activations, golden).map { abs(Double($0) - $1) }.max() ?? .infinity
        #expect(worst < 1e-4, "largest difference from PyTorch: \(worst)")
        // The example is a clear groove: the network must see its beats, not sit at a constant.
        #expect(golden.max()! > 0.5 && golden.min()! < 0.1)
    }
}
