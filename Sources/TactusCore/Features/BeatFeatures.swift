import Glibc

/// madmom's online beat features (`RNNBeatProcessor(online=True)` pre-processing), one frame at a
/// time: magnitude spectrum → logarithmic filterbank → log10(mul·x + add) → positive first
/// difference against the frame `diffFrames` back, stacked as [spectrum, difference].
public final class BeatFeatures {
    public let config: FeatureConfig
    public let spectrum: MagnitudeSpectrum
    public let filterbank: LogarithmicFilterbank
    public let bandCount: Int
    /// Frames back for the difference: from the window's `diffRatio` crossing (madmom `_diff_frames`).
    public let diffFrames: Int
    /// Feature vector of the last frame: `2·bandCount` values.
    public let values: UnsafeMutableBufferPointer<Float>
    public var count: Int { 2 * bandCount }

    /// Spectral flux of the last frame: the sum of its positive log-spectral differences.
    public var flux: Float {
        var sum: Float = 0
        for b in bandCount..<(2 * bandCount) where values[b].isFinite { sum += values[b] }
        return sum
    }

    private let bandStarts: UnsafeMutablePointer<Int>
    private let bandLengths: UnsafeMutablePointer<Int>
    private let bandWeights: UnsafeMutablePointer<Float>
    private let bandOffsets: UnsafeMutablePointer<Int>
    /// Log spectra of the last `diffFrames` frames (ring), for the difference.
    private let history: UnsafeMutablePointer<Float>
    private var historyPosition = 0
    private var framesSeen = 0

    public init(config: FeatureConfig) {
        self.config = config
        spectrum = MagnitudeSpectrum(frameSize: config.frameSize)
        filterbank = LogarithmicFilterbank(binCount: config.frameSize / 2, sampleRate: config.sampleRate,
                                           bandsPerOctave: config.bandsPerOctave,
                                           fmin: config.minFrequency, fmax: config.maxFrequency)
        bandCount = filterbank.bandCount
        diffFrames = Self.diffFrames(ratio: config.diffRatio, frameSize: config.frameSize,
                                     hopSize: config.hopSize)
        values = .allocate(capacity: 2 * bandCount)
        values.initialize(repeating: 0)
        bandStarts = .allocate(capacity: bandCount)
        bandLengths = .allocate(capacity: bandCount)
        bandOffsets = .allocate(capacity: bandCount)
        let total = filterbank.weights.reduce(0) { $0 + $1.count }
        bandWeights = .allocate(capacity: max(total, 1))
        var offset = 0
        for b in 0..<bandCount {
            bandStarts[b] = filterbank.starts[b]
            bandLengths[b] = filterbank.weights[b].count
            bandOffsets[b] = offset
            for (i, w) in filterbank.weights[b].enumerated() { bandWeights[offset + i] = w }
            offset += filterbank.weights[b].count
        }
        history = .allocate(capacity: diffFrames * bandCount)
        history.initialize(repeating: 0, count: diffFrames * bandCount)
    }

    deinit {
        values.deallocate()
        bandStarts.deallocate(); bandLengths.deallocate(); bandOffsets.deallocate()
        bandWeights.deallocate(); history.deallocate()
    }

    /// madmom `_diff_frames`: samples from the first window value above `ratio`·max to the centre,
    /// in hops, rounded half to even, at least 1.
    public static func diffFrames(ratio: Double, frameSize: Int, hopSize: Int) -> Int {
        var maxValue = 0.0
        var window = [Double](repeating: 0, count: frameSize)
        for n in 0..<frameSize {
            window[n] = 0.5 - 0.5 * cos(2.0 * Double.pi * Double(n) / Double(frameSize - 1))
            maxValue = max(maxValue, window[n])
        }
        let sample = window.firstIndex { $0 > ratio * maxValue } ?? 0
        let diffSamples = Double(frameSize) / 2 - Double(sample)
        return max(1, Int((diffSamples / Double(hopSize)).rounded(.toNearestOrEven)))
    }

    public func reset() {
        history.update(repeating: 0, count: diffFrames * bandCount)
        historyPosition = 0
        framesSeen = 0
        values.update(repeating: 0)
    }

    /// Computes the features of one frame into `values`.
    public func process(_ frame: UnsafeBufferPointer<Float>) {
        spectrum.process(frame)
        let mags = spectrum.magnitudes.baseAddress!
        let out = values.baseAddress!
        let mul = config.logMultiplier, add = config.logAdd
        for b in 0..<bandCount {
            let w = bandWeights + bandOffsets[b]
            let m = mags + bandStarts[b]
            var sum: Float = 0
            for i in 0..<bandLengths[b] { sum += w[i] * m[i] }
            out[b] = log10f(mul * sum + add)
        }
        // Positive difference to the log spectrum `diffFrames` back; 0 while there is none yet
        // (madmom pads with inf and zeroes the resulting infinities).
        let past = history + historyPosition * bandCount
        let diff = out + bandCount
        if framesSeen >= diffFrames {
            for b in 0..<bandCount { diff[b] = max(out[b] - past[b], 0) }
        } else {
            for b in 0..<bandCount { diff[b] = 0 }
        }
        for b in 0..<bandCount { past[b] = out[b] }
        historyPosition += 1
        if historyPosition == diffFrames { historyPosition = 0 }
        framesSeen += 1
    }
}
