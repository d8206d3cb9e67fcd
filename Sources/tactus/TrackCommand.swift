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

    @Option(help: ArgumentHelp("Beat network: 'builtin' (Tactus's own model, compiled in; the default of model.path) "
                               + "or a weight file (Tactus weight format)."))
    var model: String?

    @Flag(help: "Use the model-free spectral-flux onset function alone instead of a network.")
    var noModel = false

    @Option(help: "Output format: text or jsonl.")
    var format: OutputFormat = .text

    @Option(help: ArgumentHelp("Write per-frame values (time, activation, tempo, phase, confidence, gate) "
                               + "to this file, or into this directory for several inputs."))
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

    @Option(name: .customLong("control"),
            help: ArgumentHelp("An operator command at a time, SECONDS:COMMAND (10:half, 12.5:nudge -10; "
                               + "see 'tactus ctl'); repeatable."))
    var controlTexts: [String] = []

    /// `--control` parsed (validate() has checked them).
    private var controls: [TimedCommand] { controlTexts.compactMap { try? TimedCommand(text: $0) } }

    func validate() throws {
        if model != nil && noModel { throw ValidationError("--model and --no-model exclude each other") }
        if inputs.isEmpty && !example { throw ValidationError("give audio files or directories, or --example") }
        if example && !inputs.isEmpty { throw ValidationError("--example takes no input files") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if reference != nil && plot == nil { throw ValidationError("--reference goes with --plot") }
        for text in controlTexts {
            do { _ = try TimedCommand(text: text) } catch { throw ValidationError("--control: \(error)") }
        }
    }

    func run() throws {
        var config = try ConfigLoading.load(path: self.config, defaultPath: nil, settings: settings)
        if let model { config.modelPath = model }
        if noModel { config.modelPath = "" }

        let spec = try ConfigLoading.model(config)
        if spec == nil && !noModel {
            Console.note("no model configured: using the spectral-flux onset function "
                         + "(--model builtin or --model PATH selects a network)")
        }
        do {
            if example { return try runExample(config: config, model: spec) }
            let files = try InputFiles.expand(inputs)
            if files.isEmpty { throw ValidationError("no audio files found in \(inputs.joined(separator: ", "))") }
            if plot != nil { return try runPlot(files, config: config, model: spec) }
            let failures = try runAll(files, config: config, model: spec)
            if failures > 0 { throw ExitCode(1) }
        } catch let error as OutputFileError {
            Console.error("\(error)")
            throw ExitCode(1)
        }
    }

    private func runExample(config: TactusConfig, model spec: ModelSpec?) throws {
        let signal = ExampleSignal()
        let frames = try activations.map { try ActivationsWriter(path: $0) }
        let result = try FileTracker.track(samples: signal.samples, config: config, model: spec,
                                           keepFrames: plot != nil, controls: controls, onFrame: frames?.add)
        try Console.output(BeatWriter(format: format).render(result.beats))
        try frames?.finish()
        if let plot {
            try writePlot(result, title: "tactus: embedded example (120 BPM)", reference: signal.beats, to: plot)
        }
        let f = BeatEvaluation.fMeasure(detections: result.beats.map(\.beatTime), annotations: signal.beats)
        Console.note(String(cFormat: "example: %d beats found, %d generated at 120 BPM; F-measure (±70 ms) %.3f",
                            result.beats.count, signal.beats.count, f))
    }

    private func runPlot(_ files: [String], config: TactusConfig, model spec: ModelSpec?) throws {
        guard let plot, files.count == 1 else { throw ValidationError("--plot takes one input file") }
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
        let frames = try activations.map { try ActivationsWriter(path: $0) }
        let result: TrackResult
        do { result = try FileTracker.track(path: files[0], config: config, model: spec, keepFrames: true,
                                                    controls: controls, onFrame: frames?.add) }
        catch { Console.error("\(error)"); throw ExitCode(1) }
        try Console.output(BeatWriter(format: format).render(result.beats))
        try frames?.finish()
        try writePlot(result, title: "tactus: \(files[0])", reference: referenceBeats, to: plot)
    }

    /// Tracks every file (in parallel when there are several); returns the number that failed.
    private func runAll(_ files: [String], config: TactusConfig, model: ModelSpec?) throws -> Int {
        let writer = BeatWriter(format: format)
        let single = files.count == 1
        let ext = format == .text ? "beats.txt" : "beats.jsonl"
        // Every output name is fixed before anything is tracked: two inputs never share one.
        let beatFiles = try outputDir.map { dir in try Self.sideFiles(files, in: dir, ext) }
        let activationFiles = try activations.map { path in
            single ? [path] : try Self.sideFiles(files, in: path, "activations.txt")
        }
        if let outputDir { try Self.makeDirectory(outputDir) }
        if let activations, !single { try Self.makeDirectory(activations) }
        let results = Mutex([Int: Result<TrackResult, Error>]())
        let failures = Mutex(0)
        let printed = Mutex(0)
        let workerCount = min(jobs ?? ProcessInfo.processInfo.activeProcessorCount, files.count)
        let next = Mutex(0)

        // Emits finished results in input order as soon as their predecessors are out.
        @Sendable func flush() {
            printed.withLock { p in
                while let r = results.withLock({ $0.removeValue(forKey: p) }) {
                    let path = files[p]
                    switch r {
                    case .success(let result):
                        do {
                            try Self.emit(result, path: path, single: single, writer: writer, to: beatFiles?[p])
                        } catch {
                            Console.error("\(error)")
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
                let r = Result {
                    let frames = try activationFiles.map { try ActivationsWriter(path: $0[i]) }
                    let result = try FileTracker.track(path: files[i], config: config, model: model, controls: controls,
                                                       onFrame: frames?.add)
                    try frames?.finish()
                    return result
                }
                results.withLock { $0[i] = r }
                flush()
            }
        }
        flush()
        return failures.withLock { $0 }
    }

    private static func emit(_ result: TrackResult, path: String, single: Bool, writer: BeatWriter,
                             to file: String?) throws {
        let text = writer.render(result.beats)
        if result.repairedSamples > 0 {
            Console.note("\(path): \(result.repairedSamples) samples were NaN, infinite or beyond ±64: "
                         + "read as silence or clipped")
        }
        if let file {
            try OutputFile.write(text, to: file)
        } else {
            try Console.output(single ? text : "# \(path)\n" + text)
        }
    }

    /// DIR/<stem>.<ext> for each input; two inputs with the same stem are refused, by name,
    /// before anything is written (one would overwrite the other's output).
    static func sideFiles(_ files: [String], in dir: String, _ ext: String) throws -> [String] {
        let names = files.map { PathNames.join(dir, "\(PathNames.stem($0)).\(ext)") }
        var first: [String: Int] = [:]
        var clashes: [String] = []
        for (i, name) in names.enumerated() {
            if let j = first[name] {
                clashes.append("\(files[j]) and \(files[i]) → \(name)")
            } else {
                first[name] = i
            }
        }
        guard clashes.isEmpty else {
            throw ValidationError("inputs with the same name would write the same output file: "
                                  + clashes.joined(separator: "; ") + " (track them in separate runs or rename one)")
        }
        return names
    }

    private static func makeDirectory(_ dir: String) throws {
        try OutputFile.makeDirectory(dir)
    }

    private func writePlot(_ result: TrackResult, title: String, reference: [Double], to path: String) throws {
        try OutputFile.write(SVGPlot(result: result, reference: reference, title: title).render(), to: path)
        Console.note("plot written to \(path)")
    }
}

/// `--activations`: one line per frame, written as the frames are made (a 2 h file would
/// otherwise hold 720,000 frames in memory). The first failed write is kept and thrown by
/// `finish`, which also commits the file.
final class ActivationsWriter: @unchecked Sendable {
    private let file: OutputFile
    private var failure: OutputFileError?

    init(path: String) throws(OutputFileError) {
        let dir = PathNames.directory(path)
        if !dir.isEmpty && OutputFile.descriptorName(path) == nil { try OutputFile.makeDirectory(dir) }
        file = try OutputFile(path: path)
        write("# time activation tempo phase_frames confidence gate novelty\n")
    }

    func add(_ f: FrameResult) {
        write(String(cFormat: "%.2f %.6f %.2f %.2f %.4f %d %.3f\n", f.time, f.activation, f.tracker.tempo,
                     f.tracker.phaseFrames, f.tracker.confidence, f.gateOpen ? 1 : 0, f.novelty))
    }

    private func write(_ line: String) {
        guard failure == nil else { return }
        do { try file.write(line) } catch { failure = error }
    }

    func finish() throws(OutputFileError) {
        if let failure { file.abandon(); throw failure }
        try file.commit()
    }
}
