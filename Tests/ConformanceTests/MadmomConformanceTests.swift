import Foundation
import TactusCore
import TactusIO
import Testing

/// Tactus against madmom 0.16.1's online beat tracker, frame by frame, on generated signals and
/// real music (the inputs listed in the reference index).
@Suite(.enabled(if: ReferenceData.available, ReferenceData.skipReason))
struct MadmomConformanceTests {
    struct Run {
        var features: [[Float]] = []
        var activations: [Float] = []
        var beatFrames: [Int] = []
    }

    static let model: ModelSpec? = try? ModelFile.load(path: ReferenceData.modelPath)

    func run(_ item: ReferenceData.Item) throws -> Run {
        let pipeline = try BeatPipeline(config: .madmom, model: Self.model)
        let reader = try AudioFileReader(path: item.audioPath)
        var run = Run()
        try reader.read(resampledTo: 44_100) { block in
            // madmom scales 16-bit PCM by 1/32767, libsndfile by 1/32768: give Tactus the samples
            // madmom sees, so this compares the computation, not the convention (a 3e-5 gain).
            let scaled = reader.isPCM16 ? block.map { $0 * (32768.0 / 32767.0) } : Array(block)
            scaled.withUnsafeBufferPointer { block in pipeline.process(block) { r in
                run.features.append(Array(pipeline.features.values))
                run.activations.append(r.activation)
                if r.tracker.isBeat { run.beatFrames.append(r.frame) }
            } }
        }
        return run
    }

    @Test func referenceCoversGeneratedSignalsAndTenRealFiles() throws {
        let items = try ReferenceData.items()
        #expect(items.filter { $0.name.hasPrefix("gen_") }.count >= 3)
        #expect(items.filter { !$0.name.hasPrefix("gen_") && $0.name != "sample" }.count >= 10)
    }

    @Test(arguments: try! ReferenceData.available ? ReferenceData.itemsForThisRun().map(\.name) : [])
    func featuresActivationsAndBeatsMatchMadmom(name: String) throws {
        let item = try #require(try ReferenceData.items().first { $0.name == name })
        let run = try run(item)
        // Same frame count: ceil(samples / hop), frame i ending at sample i·hop.
        #expect(run.features.count == item.frames)

        let reference = try ReferenceData.floats(name, "features.f32")
        let width = 162
        try #require(reference.count == item.frames * width)
        // Tolerance: 1e-4 of the frame maximum, but never below two float32 steps of log10(1 + x)
        // near x = 0 (madmom computes in float32 too): in near-silent frames 1e-4 of the maximum is
        // finer than float32 can resolve, and a one-step rounding difference is all that remains.
        let resolution = 2 * Float.ulpOfOne / logf(10)
        var worstFeature: Float = 0
        var resolutionLimited = 0
        var worstAt = ""
        for f in 0..<min(run.features.count, item.frames) {
            let ref = reference[(f * width)..<((f + 1) * width)]
            let scale = max(ref.map(abs).max() ?? 0, 1e-6)
            let allowed = max(1e-4 * scale, resolution)
            if allowed > 1e-4 * scale { resolutionLimited += 1 }
            for (i, v) in run.features[f].enumerated() {
                let e = abs(v - ref[ref.startIndex + i]) / allowed * 1e-4
                if e > worstFeature {
                    worstFeature = e
                    worstAt = "frame \(f), value \(i): tactus \(v), madmom \(ref[ref.startIndex + i]), "
                        + "frame max \(scale)"
                }
            }
        }
        #expect(worstFeature <= 1e-4, """
            features: worst error \(worstFeature) (in units of the tolerance, times 1e-4) at \(worstAt); \
            \(resolutionLimited) near-silent frames at float32 resolution
            """)

        let refActivations = try ReferenceData.floats(name, "activations.f32")
        let worstActivation = zip(run.activations, refActivations).map { abs($0 - $1) }.max() ?? 0
        #expect(worstActivation <= 1e-4, "activations: worst absolute error \(worstActivation)")

        // Beats: the same frames as madmom for at least 99 % of beats. madmom reports frame/fps.
        let refFrames = try ReferenceData.beats(name).map { Int(($0 * 100).rounded()) }
        let same = Set(refFrames).intersection(run.beatFrames).count
        let total = max(refFrames.count, run.beatFrames.count)
        if total > 0 {
            let agreement = Double(same) / Double(total)
            #expect(agreement >= 0.99,
                    """
                    beats: \(same) of \(total) on the same frame; \
                    madmom-only \(Set(refFrames).subtracting(run.beatFrames).sorted()), \
                    tactus-only \(Set(run.beatFrames).subtracting(refFrames).sorted())
                    """)
        }
    }
}
