import CFFTW
import Glibc

/// FFTW's planner is not thread-safe; plans are made under this lock (executing them is safe).
let fftwPlannerLock = PlannerLock()

/// A plain pthread mutex (Foundation's NSLock is outside FoundationEssentials; `Mutex` cannot
/// hand the non-Sendable plan pointer out of its closure).
final class PlannerLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t> = {
        let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(m, nil)
        return m
    }()
    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
}

/// Magnitude spectrum of one frame: Hann window (symmetric, as `np.hanning`), real FFT with a plan
/// made once, magnitudes of the first `frameSize/2` bins (no Nyquist bin, no 1/N scaling), as
/// madmom's `ShortTimeFourierTransform` + `Spectrogram` compute them.
public final class MagnitudeSpectrum {
    public let frameSize: Int
    public let binCount: Int
    /// Magnitudes of the last frame processed.
    public let magnitudes: UnsafeMutableBufferPointer<Float>

    private let window: UnsafeMutablePointer<Float>
    private let input: UnsafeMutablePointer<Float>
    private let output: UnsafeMutablePointer<fftwf_complex>
    private let plan: fftwf_plan

    public init(frameSize: Int) {
        precondition(frameSize >= 4 && frameSize % 2 == 0, "frame size must be even")
        self.frameSize = frameSize
        binCount = frameSize / 2
        magnitudes = .allocate(capacity: binCount)
        magnitudes.initialize(repeating: 0)
        window = .allocate(capacity: frameSize)
        for n in 0..<frameSize {
            // np.hanning: 0.5 − 0.5·cos(2πn/(N−1)), computed in double like numpy.
            window[n] = Float(0.5 - 0.5 * cos(2.0 * Double.pi * Double(n) / Double(frameSize - 1)))
        }
        let input = fftwf_alloc_real(frameSize)!
        let output = fftwf_alloc_complex(frameSize / 2 + 1)!
        self.input = input
        self.output = output
        // FFTW_ESTIMATE: the same algorithm on every run, so results are reproducible bit for bit.
        fftwPlannerLock.lock()
        plan = fftwf_plan_dft_r2c_1d(Int32(frameSize), input, output, UInt32(FFTW_ESTIMATE))!
        fftwPlannerLock.unlock()
    }

    deinit {
        fftwPlannerLock.lock()
        fftwf_destroy_plan(plan)
        fftwPlannerLock.unlock()
        fftwf_free(input)
        fftwf_free(output)
        window.deallocate()
        magnitudes.deallocate()
    }

    /// Windows `frame`, transforms it and stores the magnitudes in `magnitudes`.
    public func process(_ frame: UnsafeBufferPointer<Float>) {
        precondition(frame.count == frameSize)
        let src = frame.baseAddress!
        for n in 0..<frameSize { input[n] = src[n] * window[n] }
        fftwf_execute(plan)
        let complex = UnsafeRawPointer(output).assumingMemoryBound(to: Float.self)
        let mags = magnitudes.baseAddress!
        for k in 0..<binCount {
            let re = complex[2 * k], im = complex[2 * k + 1]
            mags[k] = (re * re + im * im).squareRoot()
        }
    }
}
