import Foundation
import TactusCore
import TactusIO

/// A temporary directory for one CLI test, holding a generated groove as `in.wav`.
struct TestWorkspace {
    let dir: URL
    var wav: String { dir.appendingPathComponent("in.wav").path }

    init(_ name: String, tempo: Double = 120, duration: Double) throws {
        dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("tactus-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try AudioFileWriter.writeWAV(ExampleSignal(tempo: tempo, duration: duration).samples, sampleRate: 44_100,
                                     to: dir.appendingPathComponent("in.wav").path)
    }

    func remove() { try? FileManager.default.removeItem(at: dir) }

    /// The model `tactus run` and `tactus track` use without a config (model.path's default), for
    /// the file-mode reference of a test.
    static func defaultModel() throws -> ModelSpec? {
        let path = TactusConfig().modelPath
        return path.isEmpty ? nil : try ModelFile.load(path: path)
    }

    /// ../shared/tools/alsa-test.asoundrc (the `fromfile` and `jackin` PCMs) as `dir/.asoundrc`;
    /// false when ../shared is not there.
    static func installTestAsoundrc(in dir: URL) throws -> Bool {
        let asoundrc = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("shared/tools/alsa-test.asoundrc")
        guard FileManager.default.fileExists(atPath: asoundrc.path) else { return false }
        try FileManager.default.copyItem(at: asoundrc, to: dir.appendingPathComponent(".asoundrc"))
        return true
    }
}

/// Live beats against file mode's when the live stream started earlier than the music (a device
/// that appeared late, a player started after the capture).
enum BeatAlignment {
    /// The shift in `range` that puts the most live beats within 15 ms of file beats, refined to
    /// the median difference of those matched pairs (the search alone returns one pair's
    /// difference, which can sit 15 ms off the centre and eat the tolerance of the comparison).
    static func offset(live: [Double], file: [Double], range: ClosedRange<Double>) -> Double {
        var best = (matches: -1, offset: 0.0)
        for l in live {
            for f in file where range.contains(l - f) {
                let d = l - f
                let matches = live.filter { x in file.contains { abs(x - d - $0) <= 0.015 } }.count
                if matches > best.matches { best = (matches, d) }
            }
        }
        let differences = live.compactMap { x in
            file.first { abs(x - best.offset - $0) <= 0.015 }.map { x - $0 }
        }.sorted()
        return differences.isEmpty ? best.offset : differences[differences.count / 2]
    }

    /// Beats of the music after its first seconds: the start differs by design (file mode's
    /// signal gate is in its one-second warm-up when the music starts; a live stream has been
    /// running on silence, so there the music's start is an onset like any other).
    static func settled(_ beats: [Double], from start: Double = 3, to end: Double) -> [Double] {
        beats.filter { $0 >= start && $0 <= end }
    }
}
