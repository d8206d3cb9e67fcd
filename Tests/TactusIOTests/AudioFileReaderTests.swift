import CSndfile
import Foundation
import TactusCore
import TactusIO
import Testing

@Suite struct AudioFileReaderTests {
    @Test(arguments: [
        ("wav", Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_16)),
        ("flac", Int32(SF_FORMAT_FLAC | SF_FORMAT_PCM_16)),
        ("ogg", Int32(SF_FORMAT_OGG | SF_FORMAT_VORBIS)),
        ("mp3", Int32(SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III)),
    ])
    func readsEveryFormatAsMonoAt44k(ext: String, format: Int32) throws {
        try #require(AudioFixtures.formatAvailable(format, channels: 2), "this libsndfile cannot write .\(ext)")
        let fx = try AudioFixtures()
        // Stereo: a 440 Hz sine left, silence right; averaging halves it.
        let mono = fx.sine(frequency: 440, rate: 44_100, seconds: 1)
        var stereo = [Float](repeating: 0, count: 2 * mono.count)
        for i in mono.indices { stereo[2 * i] = mono[i] }
        let p = try fx.write("tone.\(ext)", stereo, channels: 2, format: format)
        let out = try AudioFileReader.readAll(path: p, sampleRate: 44_100)
        // Lossy codecs add delay and padding; all must keep about one second.
        #expect(abs(out.count - mono.count) < 4_000, "\(out.count) samples")
        let peak = out.map(abs).max() ?? 0
        #expect(abs(peak - 0.25) < 0.03, "peak \(peak): channels averaged")
    }

    @Test func averagesEightChannels() throws {
        let fx = try AudioFixtures()
        let frames = 1000
        var data = [Float](repeating: 0, count: 8 * frames)
        for i in 0..<frames { for c in 0..<8 { data[8 * i + c] = Float(c) / 10 } }
        let p = try fx.write("eight.wav", data, channels: 8, format: Int32(SF_FORMAT_WAV | SF_FORMAT_FLOAT))
        let out = try AudioFileReader.readAll(path: p, sampleRate: 44_100)
        #expect(out.count == frames)
        #expect(out.allSatisfy { abs($0 - 0.35) < 1e-6 })
    }

    /// 22.05 kHz → 44.1 kHz with the band-limited resampler: length doubles, pitch stays.
    @Test(arguments: [22_050, 48_000, 8_000])
    func resamplesKeepingPitchAndLength(rate: Int) throws {
        let fx = try AudioFixtures()
        let p = try fx.write("sine.wav", fx.sine(frequency: 1000, rate: Double(rate), seconds: 2), rate: Int32(rate),
                             format: Int32(SF_FORMAT_WAV | SF_FORMAT_FLOAT))
        let out = try AudioFileReader.readAll(path: p, sampleRate: 44_100)
        #expect(abs(out.count - 88_200) <= 2, "\(out.count) samples")
        // Count rising zero crossings in the steady middle second: 1000 of them.
        let mid = Array(out[22_050..<66_150])
        let crossings = zip(mid, mid.dropFirst()).filter { $0 < 0 && $1 >= 0 }.count
        #expect(abs(crossings - 1000) <= 1)
        // Band-limited: amplitude kept (no linear-interpolation droop or aliasing bumps).
        let peak = mid.map(abs).max() ?? 0
        #expect(abs(peak - 0.5) < 0.005)
    }

    @Test func namesTheFileAndTheReason() throws {
        let fx = try AudioFixtures()
        func message(_ path: String) -> String {
            do { _ = try AudioFileReader.readAll(path: path, sampleRate: 44_100); return "no error" }
            catch { return "\(error)" }
        }
        let missing = fx.path("missing.wav")
        #expect(message(missing) == "\(missing): no such file")
        let empty = fx.path("empty.wav")
        try #require(FileManager.default.createFile(atPath: empty, contents: Data()))
        #expect(message(empty) == "\(empty): the file holds no audio samples")
        let text = fx.path("notes.wav")
        try #require(FileManager.default.createFile(atPath: text, contents: Data("these are not samples\n".utf8)))
        #expect(message(text).hasPrefix("\(text): not a readable audio file: "))
        #expect(message(fx.directory).hasSuffix("cannot open: is a directory"))
        let noFrames = try fx.write("zero.wav", [])
        #expect(message(noFrames) == "\(noFrames): the file holds no audio samples")
    }

    /// A WAV cut short: the header announces more than the file holds.
    @Test func reportsTruncation() throws {
        let fx = try AudioFixtures()
        let p = try fx.write("cut.wav", fx.sine(frequency: 440, rate: 44_100, seconds: 1))
        let data = try Data(contentsOf: URL(fileURLWithPath: p))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: p))
        var message = "no error"
        do { _ = try AudioFileReader.readAll(path: p, sampleRate: 44_100) } catch { message = "\(error)" }
        #expect(message.hasPrefix("\(p): truncated"), "\(message)")
    }

    @Test func fileModeEqualsMemoryMode() throws {
        let fx = try AudioFixtures()
        let signal = ExampleSignal(duration: 12)
        let p = try fx.write("example.wav", signal.samples, format: Int32(SF_FORMAT_WAV | SF_FORMAT_FLOAT))
        let fromFile = try FileTracker.track(path: p, config: TactusConfig(), model: nil)
        let fromMemory = try FileTracker.track(samples: signal.samples, config: TactusConfig(), model: nil)
        #expect(fromFile.beats == fromMemory.beats)
        #expect(!fromFile.beats.isEmpty)
    }
}

@Suite struct ModelFileTests {
    @Test func namesTheFileAndTheReason() throws {
        let fx = try AudioFixtures()
        #expect(throws: ModelFileError(path: fx.path("none.tnn"), message: "no such file")) {
            try ModelFile.load(path: fx.path("none.tnn"))
        }
        let junk = fx.path("junk.tnn")
        try #require(FileManager.default.createFile(atPath: junk, contents: Data(repeating: 7, count: 100)))
        do {
            _ = try ModelFile.load(path: junk)
            Issue.record("junk accepted")
        } catch {
            #expect(error.description == "\(junk): not a usable weight file: does not start with \"TACTUSNN\": not a Tactus weight file")
        }
    }
}
