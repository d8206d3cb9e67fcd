import CKernels
import Glibc

/// Runtime state and packed weights of one LSTM layer, stepped one frame at a time.
///
/// Weights are packed gate-interleaved per input (`[input][gate·units + unit]`), so one pass over
/// the inputs updates all four gates with a unit-stride inner loop that the compiler vectorises.
final class LSTMLayer: NetworkLayer {
    let inputCount: Int
    let units: Int
    let outputActivation: Nonlinearity
    /// Row length of the packed matrices: 4 · units, padded with zero columns to a multiple of 8
    /// so that the kernel runs whole AVX vectors.
    private let width: Int
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
        width = (4 * units + 7) / 8 * 8
        inputWeights = .allocate(capacity: inputCount * width)
        inputWeights.initialize(repeating: 0, count: inputCount * width)
        recurrentWeights = .allocate(capacity: units * width)
        recurrentWeights.initialize(repeating: 0, count: units * width)
        bias = .allocate(capacity: width)
        bias.initialize(repeating: 0, count: width)
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
        MatrixProduct.accumulate(z, inputWeights, x, rows: inputCount, width: width)
        MatrixProduct.accumulate(z, recurrentWeights, output, rows: units, width: width)
        let pi = peepholes, pf = peepholes + units, po = peepholes + 2 * units
        let zi = z, zf = z + units, zc = z + 2 * units, zo = z + 3 * units
        // Peepholes see the previous cell state for the input and forget gates.
        for u in 0..<units {
            zi[u] += cell[u] * pi[u]
            zf[u] += cell[u] * pf[u]
        }
        Nonlinearity.sigmoid.apply(zi, count: 2 * units)
        Nonlinearity.tanh.apply(zc, count: units)
        for u in 0..<units {
            cell[u] = zc[u] * zi[u] + cell[u] * zf[u]
            // ... and the new one for the output gate.
            zo[u] += cell[u] * po[u]
            output[u] = cell[u]
        }
        Nonlinearity.sigmoid.apply(zo, count: units)
        outputActivation.apply(output, count: units)
        for u in 0..<units { output[u] *= zo[u] }
    }
}

/// Runtime of a dense layer.
final class DenseLayer: NetworkLayer {
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

    func reset() {}

    func step(_ x: UnsafePointer<Float>) {
        output.update(from: bias, count: units)
        MatrixProduct.accumulate(output, weights, x, rows: inputCount, width: units)
        activation.apply(output, count: units)
    }
}

/// z += xᵀ·W for an input-major matrix W (rows × width): the C kernel, AVX2/FMA where available.
enum MatrixProduct {
    @inline(__always)
    static func accumulate(_ z: UnsafeMutablePointer<Float>, _ w: UnsafePointer<Float>,
                           _ x: UnsafePointer<Float>, rows: Int, width: Int) {
        tactus_accumulate(z, w, x, rows, width)
    }
}
