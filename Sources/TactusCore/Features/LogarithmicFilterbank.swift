import Glibc

/// Triangular filters on a logarithmic frequency axis, `bandsPerOctave` per octave between `fmin`
/// and `fmax` (reference 440 Hz), merged where the FFT resolution makes them collide and each
/// normalised to unit area: madmom's `LogarithmicFilterbank(norm_filters=True, unique_filters=True)`.
/// Stored sparsely: each band is a start bin and a run of weights.
public struct LogarithmicFilterbank: Sendable, Equatable {
    public let binCount: Int
    /// First FFT bin of each band.
    public let starts: [Int]
    /// Weights of each band, from its first bin on.
    public let weights: [[Float]]

    public var bandCount: Int { starts.count }

    public init(binCount: Int, sampleRate: Double, bandsPerOctave: Int,
                fmin: Double, fmax: Double, reference: Double = 440) {
        // Frequencies of the FFT bins (np.fft.fftfreq(2·binCount, 1/sr)[:binCount]).
        let fftSize = Double(2 * binCount)
        let binFrequencies = (0..<binCount).map { Double($0) * sampleRate / fftSize }
        let centres = Self.logFrequencies(bandsPerOctave: bandsPerOctave, fmin: fmin, fmax: fmax,
                                          reference: reference)
        let bins = Self.uniqueBins(of: centres, binFrequencies: binFrequencies)
        var starts: [Int] = []
        var weights: [[Float]] = []
        var index = 0
        while index + 3 <= bins.count {
            var (start, centre, stop) = (bins[index], bins[index + 1], bins[index + 2])
            if stop - start < 2 {
                centre = start
                stop = start + 1
            }
            var data = [Float](repeating: 0, count: stop - start)
            let rise = centre - start, fall = stop - centre
            for i in 0..<rise { data[i] = Float(Double(i) / Double(rise)) }
            for i in 0..<fall { data[rise + i] = Float(1.0 - Double(i) / Double(fall)) }
            // Area normalisation in float32, as madmom does it.
            var sum: Float = 0
            for v in data { sum += v }
            data = data.map { $0 / sum }
            // Clip filters that run past the last bin.
            let end = min(stop, binCount)
            if end > start {
                starts.append(start)
                weights.append(Array(data[0..<(end - start)]))
            } else {
                starts.append(min(start, binCount))
                weights.append([])
            }
            index += 1
        }
        self.binCount = binCount
        self.starts = starts
        self.weights = weights
    }

    /// madmom's `log_frequencies`: 2^(k/bpo)·ref for every k whose frequency lies in [fmin, fmax].
    static func logFrequencies(bandsPerOctave: Int, fmin: Double, fmax: Double,
                               reference: Double) -> [Double] {
        let bpo = Double(bandsPerOctave)
        let left = (log2(fmin / reference) * bpo).rounded(.down)
        let right = (log2(fmax / reference) * bpo).rounded(.up)
        var result: [Double] = []
        var k = left
        while k < right {
            let f = reference * pow(2.0, k / bpo)
            if f >= fmin && f <= fmax { result.append(f) }
            k += 1
        }
        return result
    }

    /// madmom's `frequencies2bins(..., unique_bins=True)`: nearest bin (ties to the lower), deduplicated.
    static func uniqueBins(of frequencies: [Double], binFrequencies: [Double]) -> [Int] {
        var bins: [Int] = []
        for f in frequencies {
            // searchsorted (left): first index with binFrequencies[i] >= f
            var lo = 0, hi = binFrequencies.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if binFrequencies[mid] < f { lo = mid + 1 } else { hi = mid }
            }
            var index = min(max(lo, 1), binFrequencies.count - 1)
            let left = binFrequencies[index - 1], right = binFrequencies[index]
            if f - left < right - f { index -= 1 }
            bins.append(index)
        }
        return Array(Set(bins)).sorted()
    }
}
