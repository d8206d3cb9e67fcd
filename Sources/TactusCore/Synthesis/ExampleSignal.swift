import Glibc

/// A generated drum groove with known beats: the embedded example for the quick start and a test
/// signal. Kick on beats 1 and 3, snare on 2 and 4, closed hi-hat on eighth notes, a bass note on
/// every beat, all from a seeded noise generator, so the signal is identical on every machine.
public struct ExampleSignal: Sendable {
    public let samples: [Float]
    public let sampleRate: Double
    /// Beat times (s).
    public let beats: [Double]

    public init(tempo: Double = 120, duration: Double = 30, firstBeat: Double = 0.5,
                sampleRate: Double = 44_100, seed: UInt64 = 1) {
        var beats: [Double] = []
        var t = firstBeat
        while t < duration - 0.05 {
            beats.append(t)
            t += 60 / tempo
        }
        self.init(beats: beats, duration: duration, sampleRate: sampleRate, seed: seed)
    }

    /// A groove whose tempo goes linearly from `startTempo` to `endTempo` between `changeStart`
    /// and `changeEnd` (s); equal times give a step.
    public init(startTempo: Double, endTempo: Double, changeStart: Double, changeEnd: Double,
                duration: Double, firstBeat: Double = 0.5, sampleRate: Double = 44_100, seed: UInt64 = 1) {
        var beats: [Double] = []
        var t = firstBeat
        while t < duration - 0.05 {
            beats.append(t)
            let x = changeEnd > changeStart ? min(max((t - changeStart) / (changeEnd - changeStart), 0), 1)
                                            : (t >= changeStart ? 1 : 0)
            t += 60 / (startTempo + (endTempo - startTempo) * x)
        }
        self.init(beats: beats, duration: duration, sampleRate: sampleRate, seed: seed)
    }

    /// Drums at the given beat times: kick on odd beats, snare on even ones, hi-hats on the
    /// beats and half-way between them, a bass note on every beat.
    public init(beats: [Double], duration: Double, sampleRate: Double = 44_100, seed: UInt64 = 1) {
        self.sampleRate = sampleRate
        var out = [Float](repeating: 0, count: Int(duration * sampleRate))
        var rng = SplitMix64(seed: seed)
        for (index, t) in beats.enumerated() {
            let period = index + 1 < beats.count ? beats[index + 1] - t : (index > 0 ? t - beats[index - 1] : 0.5)
            let start = Int(t * sampleRate)
            if index % 2 == 0 { Self.kick(&out, at: start, sampleRate: sampleRate) }
            else { Self.snare(&out, at: start, sampleRate: sampleRate, rng: &rng) }
            Self.hat(&out, at: start, sampleRate: sampleRate, rng: &rng, gain: 0.25)
            Self.hat(&out, at: Int((t + period / 2) * sampleRate), sampleRate: sampleRate, rng: &rng, gain: 0.15)
            Self.bass(&out, at: start, length: Int(period * 0.8 * sampleRate), sampleRate: sampleRate,
                      frequency: index % 8 < 4 ? 55 : 73.4)
        }
        samples = out
        self.beats = beats
    }

    /// Pink noise (−3 dB/octave, Paul Kellet's filter) at `level` dBFS RMS: the steady noise a
    /// tracker must not take for music.
    public static func pinkNoise(level: Double, duration: Double, sampleRate: Double = 44_100,
                                 seed: UInt64 = 1) -> [Float] {
        var rng = SplitMix64(seed: seed)
        var b = [Double](repeating: 0, count: 7)
        var out = [Double](repeating: 0, count: Int(duration * sampleRate))
        for i in out.indices {
            let w = rng.nextSigned()
            b[0] = 0.99886 * b[0] + w * 0.0555179
            b[1] = 0.99332 * b[1] + w * 0.0750759
            b[2] = 0.96900 * b[2] + w * 0.1538520
            b[3] = 0.86650 * b[3] + w * 0.3104856
            b[4] = 0.55000 * b[4] + w * 0.5329522
            b[5] = -0.7616 * b[5] - w * 0.0168980
            out[i] = b[0] + b[1] + b[2] + b[3] + b[4] + b[5] + b[6] + w * 0.5362
            b[6] = w * 0.115926
        }
        let rms = (out.reduce(0) { $0 + $1 * $1 } / Double(max(out.count, 1))).squareRoot()
        let gain = pow(10, level / 20) / max(rms, 1e-12)
        return out.map { Float($0 * gain) }
    }

    private static func kick(_ out: inout [Float], at start: Int, sampleRate: Double) {
        let length = Int(0.25 * sampleRate)
        var phase = 0.0
        for i in 0..<length where start + i < out.count {
            let t = Double(i) / sampleRate
            let f = 50 + 100 * exp(-t * 30)
            phase += 2 * Double.pi * f / sampleRate
            out[start + i] += Float(0.8 * exp(-t * 12) * sin(phase))
        }
    }

    private static func snare(_ out: inout [Float], at start: Int, sampleRate: Double, rng: inout SplitMix64) {
        let length = Int(0.18 * sampleRate)
        for i in 0..<length where start + i < out.count {
            let t = Double(i) / sampleRate
            let tone = 0.3 * sin(2 * Double.pi * 190 * t)
            out[start + i] += Float((0.5 * rng.nextSigned() + tone) * exp(-t * 22))
        }
    }

    private static func hat(_ out: inout [Float], at start: Int, sampleRate: Double, rng: inout SplitMix64,
                            gain: Double) {
        let length = Int(0.05 * sampleRate)
        var previous = 0.0
        for i in 0..<length where start + i < out.count {
            let t = Double(i) / sampleRate
            let noise = rng.nextSigned()
            // First difference: a crude high-pass, so the hat sits above the kick and bass.
            out[start + i] += Float(gain * (noise - previous) * exp(-t * 80))
            previous = noise
        }
    }

    private static func bass(_ out: inout [Float], at start: Int, length: Int, sampleRate: Double,
                             frequency: Double) {
        for i in 0..<length where start + i < out.count {
            let t = Double(i) / sampleRate
            let envelope = min(t * 200, 1) * exp(-t * 3)
            out[start + i] += Float(0.2 * envelope * sin(2 * Double.pi * frequency * t))
        }
    }
}

/// SplitMix64: a tiny, well-mixed deterministic generator for test signals.
public struct SplitMix64: Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    public mutating func nextSigned() -> Double { Double(next() >> 11) / Double(1 << 52) - 1 }
}
