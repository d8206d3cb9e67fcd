import Foundation
import TactusCore
import Testing

@Suite struct FeatureTests {
    @Test func filterbankHasMadmomsEightyOneUnitAreaBands() {
        let fb = LogarithmicFilterbank(binCount: 1024, sampleRate: 44_100, bandsPerOctave: 12, fmin: 30, fmax: 17_000)
        #expect(fb.bandCount == 81)
        for w in fb.weights { #expect(abs(w.reduce(0, +) - 1) < 1e-5) }
        // Unique filters: starts strictly increase.
        #expect(zip(fb.starts, fb.starts.dropFirst()).allSatisfy { $0 < $1 })
        // The highest band stays below the last bin.
        #expect(fb.starts.last! + fb.weights.last!.count <= 1024)
    }

    @Test func spectrumPeaksAtTheSinusoidsBin() {
        let spectrum = MagnitudeSpectrum(frameSize: 2048)
        let bin = 100
        let frame = (0..<2048).map { Float(sin(2 * Double.pi * Double(bin) * Double($0) / 2048)) }
        frame.withUnsafeBufferPointer { spectrum.process($0) }
        let mags = Array(spectrum.magnitudes)
        #expect(mags.count == 1024)
        #expect(mags.firstIndex(of: mags.max()!) == bin)
        // No 1/N scaling: a unit sine under a Hann window peaks near N/4.
        #expect(abs(mags[bin] - 512) < 2)
    }

    @Test func differenceDistanceIsOneFrameForMadmomSettings() {
        #expect(BeatFeatures.diffFrames(ratio: 0.5, frameSize: 2048, hopSize: 441) == 1)
        #expect(BeatFeatures.diffFrames(ratio: 0.5, frameSize: 4096, hopSize: 441) == 2)
    }

    @Test func featuresOfSilenceAreZeroAndTheFirstDifferenceIsZero() {
        let features = BeatFeatures(config: FeatureConfig())
        #expect(features.count == 162)
        let silence = [Float](repeating: 0, count: 2048)
        silence.withUnsafeBufferPointer { features.process($0) }
        #expect(features.values.allSatisfy { $0 == 0 })
        var rng = SplitMix64(seed: 9)
        let noise = (0..<2048).map { _ in Float(rng.nextSigned()) }
        features.reset()
        noise.withUnsafeBufferPointer { features.process($0) }
        #expect(features.values[0..<81].allSatisfy { $0 > 0 })
        #expect(features.values[81...].allSatisfy { $0 == 0 }, "no previous frame: difference 0")
        silence.withUnsafeBufferPointer { features.process($0) }
        #expect(features.values[81...].allSatisfy { $0 == 0 }, "a drop gives no positive difference")
        noise.withUnsafeBufferPointer { features.process($0) }
        #expect(features.values[81...].allSatisfy { $0 > 0 })
    }
}
