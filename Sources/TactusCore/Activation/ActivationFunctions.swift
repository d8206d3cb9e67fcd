import CKernels
import Glibc

/// Element-wise nonlinearities of the network layers (codes as stored in the weight file).
public enum Nonlinearity: UInt32, Sendable, Equatable {
    case identity = 0
    case sigmoid = 1
    case tanh = 2
    case relu = 3

    /// Applies the function to `count` values in place, with the C kernels (AVX2 where present):
    /// after the matrix products these are the network's largest cost per hop.
    @inline(__always)
    func apply(_ x: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .identity: break
        case .sigmoid: tactus_sigmoid(x, count)
        case .tanh: tactus_tanh(x, count)
        case .relu: for i in 0..<count { x[i] = max(x[i], 0) }
        }
    }
}

/// exp, sigmoid and tanh in single precision without library calls or traps, so loops over them
/// vectorise on plain SSE2. exp: Cody–Waite range reduction x = n·ln2 + r and a degree-6
/// polynomial for e^r (Cephes expf), relative error about 2e-7; n is rounded, and 2^n built, with
/// the 1.5·2^23 magic-number trick instead of floor and float-to-int conversion. sigmoid and tanh
/// derive from it with absolute error below 3e-7.
public enum FastMath {
    @inline(__always)
    public static func exp(_ value: Float) -> Float {
        let x = value < -87 ? -87 : (value > 88 ? 88 : value)
        let magic: Float = 12_582_912  // 1.5·2^23: adding it rounds to an integer in the low bits
        let t = x * 1.442_695_040_888_963_4 + magic
        let n = t - magic
        let r = x - n * 0.693_359_375 + n * 2.121_944_4e-4
        var p: Float = 1.987_569_150_0e-4
        p = p * r + 1.398_199_950_7e-3
        p = p * r + 8.333_451_907_3e-3
        p = p * r + 4.166_579_589_4e-2
        p = p * r + 1.666_666_545_9e-1
        p = p * r + 5.000_000_120_1e-1
        let e = p * (r * r) + r + 1
        let exponent = (t.bitPattern &- 0x4B40_0000 &+ 127) &<< 23
        return e * Float(bitPattern: exponent)
    }

    @inline(__always)
    public static func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }

    @inline(__always)
    public static func tanh(_ x: Float) -> Float { 2 / (1 + exp(-2 * x)) - 1 }
}
