import Foundation
import TactusCore
import TactusIO
import Testing

/// Hostile audio files through `tactus track`: empty and one-sample files, 8 kHz and 192 kHz,
/// eight channels, float samples with NaN and infinities. Clear messages, no crash, no NaN in
/// the output, and the beats of the clean mono 44.1 kHz file where there is music.
@Suite struct HostileFileTests {
    let dir: URL
    let music = ExampleSignal(tempo: 120, duration: 20)

    init() throws {
        dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("tactus-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    /// A WAV file: 16-bit PCM or 32-bit float, interleaved `channels`.
    static func wav(_ frames: [[Float]], rate: Int, float: Bool) -> Data {
        let channels = frames.first?.count ?? 1
        let width = float ? 4 : 2
        var body = Data()
        for frame in frames {
            for x in frame {
                if float {
                    withUnsafeBytes(of: x.bitPattern.littleEndian) { body.append(contentsOf: $0) }
                } else {
                    let v = Int16(max(-32768, min(32767, (x * 32767).rounded())))
                    withUnsafeBytes(of: v.littleEndian) { body.append(contentsOf: $0) }
                }
            }
        }
        var d = Data()
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { d.append(contentsOf: $0) } }
        func u16(_ v: Int) { withUnsafeBytes(of: UInt16(v).littleEndian) { d.append(contentsOf: $0) } }
        d.append(contentsOf: Array("RIFF".utf8)); u32(36 + body.count); d.append(contentsOf: Array("WAVEfmt ".utf8))
        u32(16); u16(float ? 3 : 1); u16(channels); u32(rate); u32(rate * channels * width); u16(channels * width)
        u16(width * 8)
        d.append(contentsOf: Array("data".utf8)); u32(body.count)
        return d + body
    }

    func track(_ name: String, _ data: Data) throws -> (status: Int32, out: String, err: String) {
        let path = dir.appendingPathComponent(name).path
        try data.write(to: URL(fileURLWithPath: path))
        let r = try TrackCommandTests.runTactus(["track", "--format", "jsonl", path])
        return (r.status, r.stdout, r.stderr)
    }

    func beatTimes(_ jsonl: String) -> [Double] {
        jsonl.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["time"] as? Double
        }
    }

    /// The clean beats (file mode on the mono 44.1 kHz signal).
    var reference: [Double] {
        get throws {
            try FileTracker.track(samples: music.samples, config: TactusConfig(),
                                  model: try TestWorkspace.defaultModel())
                .beats.map(\.beatTime)
        }
    }

    @Test func emptyAndOneSampleFiles() throws {
        let empty = try track("empty.wav", Self.wav([], rate: 44_100, float: false))
        #expect(empty.status != 0)
        #expect(empty.err.contains("empty.wav: the file holds no audio samples"), "\(empty.err)")
        let one = try track("one.wav", Self.wav([[0.5]], rate: 44_100, float: false))
        #expect(one.status == 0, "\(one.err)")
        #expect(one.out.isEmpty)
    }

    @Test(arguments: [8_000, 192_000])
    func otherSampleRates(rate: Int) throws {
        // Resampled to the device rate by linear interpolation here; Tactus resamples with soxr.
        let n = Int(Double(music.samples.count) * Double(rate) / 44_100)
        let frames = (0..<n).map { i -> [Float] in
            let t = Double(i) * 44_100 / Double(rate)
            let k = min(Int(t), music.samples.count - 2), f = Float(t - Double(k))
            return [music.samples[k] * (1 - f) + music.samples[k + 1] * f]
        }
        let r = try track("r\(rate).wav", Self.wav(frames, rate: rate, float: false))
        #expect(r.status == 0, "\(r.err)")
        #expect(!r.out.lowercased().contains("nan"))
        let f = BeatEvaluation.fMeasure(detections: beatTimes(r.out), annotations: try reference)
        #expect(f > (rate == 8_000 ? 0.8 : 0.95), "F \(f) against the 44.1 kHz beats")
    }

    @Test func eightChannels() throws {
        let frames = music.samples.map { x in (0..<8).map { c in c == 3 ? x : x * 0.5 } }
        let r = try track("ch8.wav", Self.wav(frames, rate: 44_100, float: false))
        #expect(r.status == 0, "\(r.err)")
        #expect(BeatEvaluation.fMeasure(detections: beatTimes(r.out), annotations: try reference) > 0.95)
    }

    @Test func floatSamplesWithNaNAndInfinity() throws {
        var x = music.samples
        for i in (5 * 44_100)..<(5 * 44_100 + 1000) { x[i] = .nan }
        for i in (8 * 44_100)..<(8 * 44_100 + 10) { x[i] = .infinity }
        x[9 * 44_100] = -.infinity
        let r = try track("nan.wav", Self.wav(x.map { [$0] }, rate: 44_100, float: true))
        #expect(r.status == 0, "\(r.err)")
        #expect(!r.out.lowercased().contains("nan") && !r.out.lowercased().contains("inf"))
        #expect(r.err.contains("samples were NaN, infinite or beyond ±64"), "\(r.err)")
        let away = { (b: [Double]) in b.filter { $0 < 4.5 || $0 > 11 } }
        #expect(BeatEvaluation.fMeasure(detections: away(beatTimes(r.out)), annotations: away(try reference)) > 0.95)
        let allNaN = try track("allnan.wav",
                               Self.wav([[Float]](repeating: [.nan], count: 441_000), rate: 44_100, float: true))
        #expect(allNaN.status == 0 && allNaN.out.isEmpty, "\(allNaN.err)")
    }
}
