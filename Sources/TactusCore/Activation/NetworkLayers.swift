/// One layer of a network description, weights in the weight file's layout (input-major:
/// `weights[i·outputs + u]` connects input `i` to unit `u`, as madmom stores them).
public enum LayerSpec: Sendable, Equatable {
    /// Unidirectional LSTM with optional peephole connections and learned initial states, madmom's
    /// gate equations: i, f, o = σ(W·x + R·h + p⊙c + b) (the output gate sees the new cell state),
    /// c' = tanh(W_c·x + R_c·h + b_c)⊙i + c⊙f, h = act(c')⊙o.
    case lstm(LSTMSpec)
    /// Fully connected layer, `act(W·x + b)`.
    case dense(DenseSpec)

    public var inputCount: Int {
        switch self {
        case .lstm(let l): return l.inputCount
        case .dense(let d): return d.inputCount
        }
    }

    public var outputCount: Int {
        switch self {
        case .lstm(let l): return l.units
        case .dense(let d): return d.units
        }
    }

    public var parameterCount: Int {
        switch self {
        case .lstm(let l):
            let peep = l.hasPeepholes ? 3 * l.units : 0
            return 4 * (l.inputCount * l.units + l.units + l.units * l.units) + peep + 2 * l.units
        case .dense(let d): return d.inputCount * d.units + d.units
        }
    }
}

public struct GateWeights: Sendable, Equatable {
    public var input: [Float]       // inputCount × units
    public var bias: [Float]        // units
    public var recurrent: [Float]   // units × units
    public var peephole: [Float]?   // units (not for the cell)

    public init(input: [Float], bias: [Float], recurrent: [Float], peephole: [Float]?) {
        self.input = input; self.bias = bias; self.recurrent = recurrent; self.peephole = peephole
    }
}

public struct LSTMSpec: Sendable, Equatable {
    public var inputCount: Int
    public var units: Int
    public var hasPeepholes: Bool
    public var outputActivation: Nonlinearity
    /// Gates in the order input, forget, cell, output.
    public var gates: [GateWeights]
    public var initialOutput: [Float]
    public var initialCell: [Float]

    public init(inputCount: Int, units: Int, hasPeepholes: Bool, outputActivation: Nonlinearity,
                gates: [GateWeights], initialOutput: [Float], initialCell: [Float]) {
        self.inputCount = inputCount; self.units = units; self.hasPeepholes = hasPeepholes
        self.outputActivation = outputActivation; self.gates = gates
        self.initialOutput = initialOutput; self.initialCell = initialCell
    }
}

public struct DenseSpec: Sendable, Equatable {
    public var inputCount: Int
    public var units: Int
    public var activation: Nonlinearity
    public var weights: [Float]   // inputCount × units
    public var bias: [Float]

    public init(inputCount: Int, units: Int, activation: Nonlinearity, weights: [Float], bias: [Float]) {
        self.inputCount = inputCount; self.units = units; self.activation = activation
        self.weights = weights; self.bias = bias
    }
}

/// A stack of layers; its last layer has one output (the beat activation).
public struct NetworkSpec: Sendable, Equatable {
    public var layers: [LayerSpec]
    public init(layers: [LayerSpec]) { self.layers = layers }
}

/// What a weight file holds: an ensemble of networks whose outputs are averaged, plus metadata.
public struct ModelSpec: Sendable, Equatable {
    public var metadata: [String: String]
    public var networks: [NetworkSpec]

    public init(metadata: [String: String], networks: [NetworkSpec]) {
        self.metadata = metadata; self.networks = networks
    }

    public var inputCount: Int { networks.first?.layers.first?.inputCount ?? 0 }
    public var parameterCount: Int {
        networks.reduce(0) { $0 + $1.layers.reduce(0) { $0 + $1.parameterCount } }
    }
}
