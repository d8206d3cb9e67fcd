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

    /// ../shared/tools/alsa-test.asoundrc (the `fromfile` and `jackin` PCMs) as `dir/.asoundrc`;
    /// false when ../shared is not there.
    static func installTestAsoundrc(in dir: URL) throws -> Bool {
        let asoundrc = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/tools/alsa-test.asoundrc")
        guard FileManager.default.fileExists(atPath: asoundrc.path) else { return false }
        try FileManager.default.copyItem(at: asoundrc, to: dir.appendingPathComponent(".asoundrc"))
        return true
    }
}
