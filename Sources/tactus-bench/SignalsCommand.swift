import ArgumentParser
import Foundation
import Glibc
import TactusCore
import TactusIO

/// Writes the generated test signals of the emission benchmark (bench/emission.py): tempo steps
/// and ramps with their exact beats, a pause between two songs at different tempi, 60 s of silence
/// and of −40 dBFS pink noise.
struct SignalsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signals",
        abstract: "Write generated signals (WAV) and their beats (.beats) into a directory.")

    @Argument(help: "Output directory.")
    var directory: String

    func run() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var index = "name\tkind\tchange_s\tduration_s\n"
        func write(_ name: String, _ kind: String, _ change: Double, _ samples: [Float], beats: [Double]) throws {
            try AudioFileWriter.writeWAV(samples, sampleRate: 44_100, to: path("\(name).wav"))
            try beats.map { String(format: "%.6f\n", $0) }.joined()
                .write(toFile: path("\(name).beats"), atomically: true, encoding: .utf8)
            index += "\(name)\t\(kind)\t\(change)\t\(Double(samples.count) / 44_100)\n"
        }
        let steps: [(String, Double, Double, Double, Double)] = [
            ("step_100_130", 100, 130, 15, 15), ("step_130_90", 130, 90, 15, 15),
            ("ramp_90_140", 90, 140, 10, 20), ("ramp_140_100", 140, 100, 10, 20),
        ]
        for (name, a, b, start, end) in steps {
            let s = ExampleSignal(startTempo: a, endTempo: b, changeStart: start, changeEnd: end, duration: 30)
            try write(name, start == end ? "step" : "ramp", start, s.samples, beats: s.beats)
        }
        // Two songs with a pause between them, as on a stage: 100 BPM for 15 s, 4 s of silence,
        // then 130 BPM at another phase. Rendered apart, so no hi-hat falls into the pause.
        let songA = ExampleSignal(tempo: 100, duration: 15)
        let songB = ExampleSignal(tempo: 130, duration: 15, firstBeat: 0.23, seed: 2)
        let resume = 15.0 + 4
        try write("pause_100_130", "pause", resume,
                  songA.samples + [Float](repeating: 0, count: 4 * 44_100) + songB.samples,
                  beats: songA.beats + songB.beats.map { $0 + resume })
        try write("silence_60s", "silence", 0, [Float](repeating: 0, count: 60 * 44_100), beats: [])
        try write("pink_noise_-40dBFS_60s", "noise", 0, ExampleSignal.pinkNoise(level: -40, duration: 60), beats: [])
        try index.write(toFile: path("index.tsv"), atomically: true, encoding: .utf8)
    }

    private func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
}
