import Foundation
@testable import TactusCore
import Testing

/// Random models and a plain, obviously-correct implementation of madmom's equations in Double.
enum TestModels {
    static func randoms(_ n: Int, _ rng: inout SplitMix64, scale: Double = 0.3) -> [Float] {
        (0..<n).map { _ in Float(rng.nextSigned() * scale) }
    }

    static func lstm(inputs: Int, units: Int, peepholes: Bool = true, rng: inout SplitMix64) -> LSTMSpec {
        let gates = (0..<4).map { g in
            GateWeights(input: randoms(inputs * units, &rng), bias: randoms(units, &rng),
                        recurrent: randoms(units * units, &rng),
                        peephole: peepholes && g != 2 ? randoms(units, &rng) : nil)
        }
        return LSTMSpec(inputCount: inputs, units: units, hasPeepholes: peepholes, outputActivation: .tanh,
                        gates: gates, initialOutput: randoms(units, &rng), initialCell: randoms(units, &rng))
    }

    static func model(networks: Int = 2, inputs: Int = 162, units: Int = 25, layers: Int = 3,
                      seed: UInt64 = 1) -> ModelSpec {
        var rng = SplitMix64(seed: seed)
        let nets = (0..<networks).map { _ -> NetworkSpec in
            var ls: [LayerSpec] = []
            var n = inputs
            for _ in 0..<layers { ls.append(.lstm(lstm(inputs: n, units: units, rng: &rng))); n = units }
            ls.append(.dense(DenseSpec(inputCount: n, units: 1, activation: .sigmoid,
                                       weights: randoms(n, &rng), bias: randoms(1, &rng))))
            return NetworkSpec(layers: ls)
        }
        return ModelSpec(metadata: ["name": "random-test"], networks: nets)
    }

    /// madmom's LSTMLayer.activate for one frame, in Double.
    static func referenceLSTMStep(_ s: LSTMSpec, x: [Double], h: inout [Double], c: inout [Double]) {
        func gate(_ g: Int, _ state: [Double]?) -> [Double] {
            let w = s.gates[g]
            return (0..<s.units).map { u in
                var v = Double(w.bias[u])
                for i in 0..<s.inputCount { v += x[i] * Double(w.input[i * s.units + u]) }
                for j in 0..<s.units { v += h[j] * Double(w.recurrent[j * s.units + u]) }
                if let state, let p = w.peephole { v += state[u] * Double(p[u]) }
                return v
            }
        }
        let sig = { (v: Double) in 1 / (1 + Foundation.exp(-v)) }
        let ig = gate(0, c).map(sig), fg = gate(1, c).map(sig), cell = gate(2, nil).map { Foundation.tanh($0) }
        c = (0..<s.units).map { cell[$0] * ig[$0] + c[$0] * fg[$0] }
        let og = gate(3, c).map(sig)
        h = (0..<s.units).map { Foundation.tanh(c[$0]) * og[$0] }
    }
}

@Suite struct NetworkTests {
    @Test func fastMathMatchesTheLibrary() {
        var worstExp = 0.0, worstSig = 0.0, worstTanh = 0.0
        for i in 0...20_000 {
            let x = Float(-30 + 60 * Double(i) / 20_000)
            worstExp = max(worstExp, abs(Double(FastMath.exp(x)) / Foundation.exp(Double(x)) - 1))
            worstSig = max(worstSig, abs(Double(FastMath.sigmoid(x)) - 1 / (1 + Foundation.exp(-Double(x)))))
            worstTanh = max(worstTanh, abs(Double(FastMath.tanh(x)) - Foundation.tanh(Double(x))))
        }
        #expect(worstExp < 5e-7)
        #expect(worstSig < 3e-7)
        #expect(worstTanh < 5e-7)
        #expect(FastMath.exp(-200) >= 0 && FastMath.exp(-200) < 1e-37)
        #expect(FastMath.sigmoid(200) == 1 && FastMath.sigmoid(-200) < 1e-37)
    }

    @Test func ensembleMatchesMadmomEquationsInDouble() {
        let model = TestModels.model(networks: 3, inputs: 30, units: 7, layers: 2, seed: 5)
        let ensemble = NeuralNetworkEnsemble(model)
        var rng = SplitMix64(seed: 11)
        var states: [[(h: [Double], c: [Double])]] = model.networks.map { net in
            net.layers.compactMap {
                if case .lstm(let l) = $0 {
                    return (l.initialOutput.map(Double.init), l.initialCell.map(Double.init))
                } else {
                    return nil
                }
            }
        }
        for _ in 0..<50 {
            let x = (0..<30).map { _ in Float(max(0, rng.nextSigned())) }
            let got = x.withUnsafeBufferPointer { ensemble.process($0.baseAddress!) }
            var sum = 0.0
            for (n, net) in model.networks.enumerated() {
                var v = x.map(Double.init)
                var li = 0
                for layer in net.layers {
                    switch layer {
                    case .lstm(let l):
                        var (h, c) = states[n][li]
                        TestModels.referenceLSTMStep(l, x: v, h: &h, c: &c)
                        states[n][li] = (h, c)
                        v = h
                        li += 1
                    case .dense(let d):
                        var o = Double(d.bias[0])
                        for i in 0..<d.inputCount { o += v[i] * Double(d.weights[i]) }
                        v = [1 / (1 + Foundation.exp(-o))]
                    }
                }
                sum += v[0]
            }
            #expect(abs(Double(got) - sum / 3) < 2e-6)
        }
    }
}
