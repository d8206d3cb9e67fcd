import ArgumentParser
import Glibc
import TactusCore
import TactusIO

/// `tactus features FILE --output OUT`: the exact per-frame network input, for training.
///
/// The samples take file mode's path (libsndfile, channels averaged, libsoxr to the processing
/// rate) and the pipeline's framer and feature stage, so features used for training are those the
/// network sees at inference, frame for frame.
struct FeaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "features",
        abstract: "Write the per-frame network input (beat features) of an audio file, for training.",
        discussion: """
        Output: float32 little-endian, one row per frame (100 frames/s by default), 2 x bands \
        values per row (162 by default: log filterbank spectrum, then its positive difference).
        An output path ending in .npy gets a NumPy .npy file (format 1.0, '<f4', shape (frames,
        width)). Any other path gets the raw format: the 8 bytes TACTUSFT, then u32 version (1),
        u32 frames, u32 width, f32 frames per second, then frames x width f32, all little-endian.
        Frame i ends at sample i*hop of the resampled stream (its window lies in the past).
        """)

    @Argument(help: "Audio file (WAV, FLAC, OGG/Vorbis, MP3, ...).")
    var input: String?

    @Flag(help: "Use the embedded example (a generated 120 BPM drum groove) instead of a file.")
    var example = false

    @Option(name: .shortAndLong, help: "Output file: OUT.npy for NumPy, anything else for the raw format.")
    var output: String

    @Option(help: "TOML configuration file (its [features] keys apply); --set overrides it.")
    var config: String?

    @Option(name: .customLong("set"), help: "Set a parameter, KEY=VALUE (see 'tactus params'); repeatable.")
    var settings: [String] = []

    func validate() throws {
        if input == nil && !example { throw ValidationError("give an audio file or --example") }
        if input != nil && example { throw ValidationError("--example takes no input file") }
    }

    func run() throws {
        let config = try ConfigLoading.load(path: self.config, defaultPath: nil, settings: settings).features
        let extractor = FeatureExtractor(config: config)
        if example {
            let signal = ExampleSignal(sampleRate: config.sampleRate)
            signal.samples.withUnsafeBufferPointer { extractor.push($0) }
        } else if let input {
            do {
                let reader = try AudioFileReader(path: input)
                try reader.read(resampledTo: config.sampleRate) { extractor.push($0) }
            } catch {
                Console.error("\(error)")
                throw ExitCode(1)
            }
        }
        let data = output.hasSuffix(".npy")
            ? FeatureFile.npy(extractor.values, frames: extractor.frames, width: extractor.width)
            : FeatureFile.raw(extractor.values, frames: extractor.frames, width: extractor.width,
                              frameRate: Float(config.frameRate))
        do {
            try OutputFile.write(data, to: output)
        } catch {
            Console.error("\(error)")
            throw ExitCode(1)
        }
    }
}

/// The pipeline's framer and feature stage (as `BeatPipeline.process` runs them), collecting rows.
final class FeatureExtractor {
    let framer: Framer
    let features: BeatFeatures
    private(set) var values: [Float] = []
    private(set) var frames = 0
    var width: Int { features.count }

    init(config: FeatureConfig) {
        framer = Framer(frameSize: config.frameSize, hopSize: config.hopSize)
        features = BeatFeatures(config: config)
    }

    func push(_ samples: UnsafeBufferPointer<Float>) {
        framer.push(samples) { frame, _ in
            features.process(frame)
            values.append(contentsOf: features.values)
            frames += 1
        }
    }
}

enum FeatureFile {
    static func raw(_ values: [Float], frames: Int, width: Int, frameRate: Float) -> [UInt8] {
        var data = Array("TACTUSFT".utf8)
        for v in [UInt32(1), UInt32(frames), UInt32(width), frameRate.bitPattern] {
            withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) }
        }
        appendFloats(values, to: &data)
        return data
    }

    /// NumPy format 1.0: magic, version, u16 header length, a Python dict literal padded with
    /// spaces and ended by a newline so that the data starts on a 64-byte boundary.
    static func npy(_ values: [Float], frames: Int, width: Int) -> [UInt8] {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(frames), \(width)), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        withUnsafeBytes(of: UInt16(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: Array(header.utf8))
        appendFloats(values, to: &data)
        return data
    }

    private static func appendFloats(_ values: [Float], to data: inout [UInt8]) {
        #if _endian(little)
        values.withUnsafeBytes { data.append(contentsOf: $0) }
        #else
        data.reserveCapacity(data.count + 4 * values.count)
        for v in values {
            withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) }
        }
        #endif
    }
}
