import ArgumentParser
import FoundationEssentials
import Dispatch
import Glibc
import Synchronization
import TactusCore
import TactusIO

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, jsonl
}

struct TrackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "track",
        abstract: "Track the beats of audio files (the same pipeline as the live daemon, hop by hop).",
        discussion: """
        Prints beat times in seconds, one per line (text) or one JSON object per beat (jsonl).
        Several files, or a directory, are processed in parallel on all cores; each file's output
        is then headed by a '# path' line, or written to --output-dir as <stem>.beats.txt.
        """)

    @Argument(help: "Audio files or directories (WAV, FLAC, OGG/Vorbis, MP3, ...).")
    var inputs: [String] = []

    @Flag(help: "Track the embedded example (a generated 120 BPM drum groove) instead of files.")
    var example = false

    @Option(help: "Beat network: 'builtin' (Tactus's own model, compiled in; the default of model.path) or a weight file (Tactus weight format).")
    var model: String?

    @Flag(help: "Use the model-free spectral-flux onset function alone instead of a network.")
    var noModel = false

    @Option(help: "Output format: text or jsonl.")
    var format: OutputFormat = .text

    @Option(help: "Write per-frame values (time, activation, tempo, phase, confidence, gate) to this file, or into this directory for several inputs.")
    var activations: String?

    @Option(help: "Draw activation, beats, tempo and confidence as SVG to this file (one input).")
    var plot: String?

    @Option(help: "Reference beats (one time in s per line, first column) to draw with --plot.")
    var reference: String?

    @Option(help: "Write each input's beats to DIR/<stem>.beats.txt (or .jsonl) instead of stdout.")
    var outputDir: String?

    @Option(help: "Parallel jobs for several inputs (default: all cores).")
    var jobs: Int?

    @Option(help: "TOML configuration file (keys as in config/tactus.toml); --set overrides it.")
    var config: String?

    @Option(name: .customLong("set"), help: "Set a parameter, KEY=VALUE (see 'tactus params'); repeatable.")
    var settings: [String] = []

    func validate() throws {
        if model != nil && noModel { throw ValidationError("--model and --no-model exclude each other") }
        if inputs.isEmpty && !example { throw ValidationError("give audio files or directories, or --example") }
        if example && !inputs.isEmpty { throw ValidationError("--example takes no input files") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if reference != nil && plot == nil { throw ValidationError("--reference goes with --plot") }
    }

    func run() throws {
        var config = try ConfigLoading.load(path: self.config, defaultPath: nil, settings: settings)
        if let model { config.modelPath = model }
        if noModel { config.modelPath = "" }

        let spec = try ConfigLoading.model(config)
        if spec == nil && !noModel {
            Console.note("no model configured: using the spectral-flux onset function (--model builtin or --model PATH selects a network)")
        }

        if example {
            let signal = ExampleSignal()
            let result = try FileTracker.track(samples: signal.samples, config: config, model: spec,
                                               keepFrames: activations != nil || plot != nil)
            let writer = BeatWriter(format: format)
            print(writer.render(result.beats), terminator: "")
            if let activations { try writeActivations(result, to: activations, config: config) }
            if let plot { try writePlot(result, title: "tactus: embedded example (120 BPM)", reference: signal.beats, to: plot) }
            let f = BeatEvaluation.fMeasure(detections: result.beats.map(\.beatTime), annotations: signal.beats)
            Console.note(String(cFormat: "example: %d beats found, %d generated at 120 BPM; F-measure (±70 ms) %.3f",
                                result.beats.count, signal.beats.count, f))
            return
        }

        let files = try InputFiles.expand(inputs)
        if files.isEmpty { throw ValidationError("no audio files found in \(inputs.joined(separator: ", "))") }
        if let plot {
            guard files.count == 1 else { throw ValidationError("--plot takes one input file") }
            let result: TrackResult
            do { result = try FileTracker.track(path: files[0], config: config, model: spec, keepFrames: true) }
            catch { Console.error("\(error)"); throw ExitCode(1) }
            print(BeatWriter(format: format).render(result.beats), terminator: "")
            if let activations { try Self.writeActivations(result, to: activations, config: config) }
            var referenceBeats: [Double] = []
            if let reference {
                guard let text = try? String(contentsOfFile: reference, encoding: .utf8) else {
                    Console.error("\(reference): cannot read the reference beats")
                    throw ExitCode(1)
                }
                // First column of each line (annotation files may carry the beat in the bar).
                referenceBeats = text.split(separator: "\n").compactMap { line in
                    line.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap { Double($0) }
                }
            }
            try writePlot(result, title: "tactus: \(files[0])", reference: referenceBeats, to: plot)
            return
        }
        let failures = try runAll(files, config: config, model: spec)
        if failures > 0 { throw ExitCode(1) }
    }

    /// Tracks every file (in parallel when there are several); returns the number that failed.
    private func runAll(_ files: [String], config: TactusConfig, model: ModelSpec?) throws -> Int {
        let writer = BeatWriter(format: format)
        let single = files.count == 1
        let results = Mutex([Int: Result<TrackResult, Error>]())
        let failures = Mutex(0)
        let printed = Mutex(0)
        let keep = activations != nil
        let workerCount = min(jobs ?? ProcessInfo.processInfo.activeProcessorCount, files.count)
        let next = Mutex(0)
        let outputDir = self.outputDir, activations = self.activations

        // Emits finished results in input order as soon as their predecessors are out.
        @Sendable func flush() {
            printed.withLock { p in
                while let r = results.withLock({ $0.removeValue(forKey: p) }) {
                    let path = files[p]
                    switch r {
                    case .success(let result):
                        do {
                            try Self.emit(result, path: path, single: single, writer: writer, outputDir: outputDir)
                            if let activations {
                                let target = single ? activations : Self.sideFile(activations, path, "activations.txt")
                                try Self.writeActivations(result, to: target, config: config)
                            }
                        } catch {
                            Console.error("\(path): \(error)")
                            failures.withLock { $0 += 1 }
                        }
                    case .failure(let error):
                        Console.error("\(error)")
                        failures.withLock { $0 += 1 }
                    }
                    p += 1
                }
            }
        }

        DispatchQueue.concurrentPerform(iterations: workerCount) { _ in
            while true {
                let i: Int = next.withLock { n in defer { n += 1 }; return n }
                if i >= files.count { break }
                let r = Result { try FileTracker.track(path: files[i], config: config, model: model, keepFrames: keep) }
                results.withLock { $0[i] = r }
                flush()
            }
        }
        flush()
        return failures.withLock { $0 }
    }

    private static func emit(_ result: TrackResult, path: String, single: Bool, writer: BeatWriter,
                             outputDir: String?) throws {
        let text = writer.render(result.beats)
        if result.repairedSamples > 0 {
            Console.note("\(path): \(result.repairedSamples) samples were NaN, infinite or beyond ±64: read as silence or clipped")
        }
        if let outputDir {
            try FileManager.default.createDirectory(atPath: outputDir, withIntermediateDirectories: true)
            let ext = writer.format == .text ? "beats.txt" : "beats.jsonl"
            try text.write(toFile: sideFile(outputDir, path, ext), atomically: true, encoding: .utf8)
        } else {
            if !single { print("# \(path)") }
            print(text, terminator: "")
        }
    }

    static func sideFile(_ dir: String, _ path: String, _ ext: String) -> String {
        PathNames.join(dir, "\(PathNames.stem(path)).\(ext)")
    }

    private func writePlot(_ result: TrackResult, title: String, reference: [Double], to path: String) throws {
        try SVGPlot(result: result, reference: reference, title: title).render()
            .write(toFile: path, atomically: true, encoding: .utf8)
        Console.note("plot written to \(path)")
    }

    private func writeActivations(_ result: TrackResult, to path: String, config: TactusConfig) throws {
        try Self.writeActivations(result, to: path, config: config)
    }

    static func writeActivations(_ result: TrackResult, to path: String, config: TactusConfig) throws {
        let dir = PathNames.directory(path)
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        var text = "# time activation tempo phase_frames confidence gate novelty\n"
        for f in result.frames ?? [] {
            text += String(cFormat: "%.2f %.6f %.2f %.2f %.4f %d %.3f\n", f.time, f.activation, f.tracker.tempo,
                           f.tracker.phaseFrames, f.tracker.confidence, f.gateOpen ? 1 : 0, f.novelty)
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}
