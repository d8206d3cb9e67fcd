import Foundation

/// Runtime state and packed weights of one LSTM layer, stepped one frame at a time.
///
/// Weights are packed gate-interleaved per input (`[input][gate·units + unit]`), so one pass over
/// the inputs updates all four gates with a unit-stride inner loop that the compiler vectorises.
final class LSTMLayer {
    let inputCount: Int
    let units: Int
    let outputActivation: Nonlinearity
    private let width: Int                          // 4 · units
    private let inputWeights: UnsafeMutablePointer<Float>      // inputCount × width
    private let recurrentWeights: UnsafeMutablePointer<Float>  // units × width
    private let bias: UnsafeMutablePointer<Float>              // width
    private let peepholes: UnsafeMutablePointer<Float>         // 3 × units (input, forget, output)
    private let initialOutput: UnsafeMutablePointer<Float>
    private let initialCell: UnsafeMutablePointer<Float>
    private let preactivation: UnsafeMutablePointer<Float>     // width
    /// Output of the last step (h).
    let output: UnsafeMutablePointer<Float>
    private let cell: UnsafeMutablePointer<Float>

    init(_ spec: LSTMSpec) {
        inputCount = spec.inputCount
        units = spec.units
        outputActivation = spec.outputActivation
        width = 4 * units
        inputWeights = .allocate(capacity: inputCount * width)
        recurrentWeights = .allocate(capacity: units * width)
        bias = .allocate(capacity: width)
        peepholes = .allocate(capacity: 3 * units)
        peepholes.initialize(repeating: 0, count: 3 * units)
        initialOutput = .allocate(capacity: units)
        initialCell = .allocate(capacity: units)
        preactivation = .allocate(capacity: width)
        preactivation.initialize(repeating: 0, count: width)
        output = .allocate(capacity: units)
        cell = .allocate(capacity: units)
        for (g, gate) in spec.gates.enumerated() {
            for i in 0..<inputCount {
                for u in 0..<units { inputWeights[i * width + g * units + u] = gate.input[i * units + u] }
            }
            for j in 0..<units {
                for u in 0..<units { recurrentWeights[j * width + g * units + u] = gate.recurrent[j * units + u] }
            }
            for u in 0..<units { bias[g * units + u] = gate.bias[u] }
        }
        if spec.hasPeepholes {
            for (slot, g) in [0, 1, 3].enumerated() {
                for u in 0..<units { peepholes[slot * units + u] = spec.gates[g].peephole![u] }
            }
        }
        for u in 0..<units {
            initialOutput[u] = spec.initialOutput[u]
            initialCell[u] = spec.initialCell[u]
        }
        output.initialize(from: initialOutput, count: units)
        cell.initialize(from: initialCell, count: units)
    }

    deinit {
        inputWeights.deallocate(); recurrentWeights.deallocate(); bias.deallocate()
        peepholes.deallocate(); initialOutput.deallocate(); initialCell.deallocate()
        preactivation.deallocate(); output.deallocate(); cell.deallocate()
    }

    func reset() {
        output.update(from: initialOutput, count: units)
        cell.update(from: initialCell, count: units)
    }

    func step(_ x: UnsafePointer<Float>) {
        let width = self.width, units = self.units
        let z = preactivation
        z.update(from: bias, count: width)
        for i in 0..<inputCount {
            let xi = x[i]
            // Positive spectral differences are often exactly 0: skipping them changes no bit.
            if xi == 0 { continue }
            let w = inputWeights + i * width
            for k in 0..<width { z[k] += w[k] * xi }
        }
        for j in 0..<units {
            let hj = output[j]
            let w = recurrentWeights + j * width
            for k in 0..<width { z[k] += w[k] * hj }
        }
        let pi = peepholes, pf = peepholes + units, po = peepholes + 2 * units
        for u in 0..<units {
            let c = cell[u]
            let ig = Nonlinearity.sigmoid(z[u] + c * pi[u])
            let fg = Nonlinearity.sigmoid(z[units + u] + c * pf[u])
            let candidate = Nonlinearity.tanh(z[2 * units + u])
            let newCell = candidate * ig + c * fg
            let og = Nonlinearity.sigmoid(z[3 * units + u] + newCell * po[u])
            cell[u] = newCell
            output[u] = outputActivation.apply(newCell) * og
        }
    }
}

/// Runtime of a dense layer.
final class DenseLayer {
    let inputCount: Int
    let units: Int
    let activation: Nonlinearity
    private let weights: UnsafeMutablePointer<Float>   // inputCount × units
    private let bias: UnsafeMutablePointer<Float>
    let output: UnsafeMutablePointer<Float>

    init(_ spec: DenseSpec) {
        inputCount = spec.inputCount
        units = spec.units
        activation = spec.activation
        weights = .allocate(capacity: inputCount * units)
        weights.initialize(from: spec.weights, count: inputCount * units)
        bias = .allocate(capacity: units)
        bias.initialize(from: spec.bias, count: units)
        output = .allocate(capacity: units)
        output.initialize(repeating: 0, count: units)
    }

    deinit { weights.deallocate(); bias.deallocate(); output.deallocate() }

    func step(_ x: UnsafePointer<Float>) {
        output.update(from: bias, count: units)
        for i in 0..<inputCount {
            let xi = x[i]
            let w = weights + i * units
            for u in 0..<units { output[u] += w[u] * xi }
        }
        for u in 0..<units { output[u] = activation.apply(output[u]) }
    }
}
