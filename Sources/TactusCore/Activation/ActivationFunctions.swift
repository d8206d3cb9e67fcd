import Foundation

/// Element-wise nonlinearities of the network layers (codes as stored in the weight file).
public enum Nonlinearity: UInt32, Sendable, Equatable {
    case identity = 0
    case sigmoid = 1
    case tanh = 2
    case relu = 3

    @inline(__always)
    func apply(_ x: Float) -> Float {
        switch self {
        case .identity: return x
        case .sigmoid: return Nonlinearity.sigmoid(x)
        case .tanh: return Nonlinearity.tanh(x)
        case .relu: return max(x, 0)
        }
    }

    @inline(__always)
    static func sigmoid(_ x: Float) -> Float { 1 / (1 + expf(-x)) }

    @inline(__always)
    static func tanh(_ x: Float) -> Float { tanhf(x) }
}
