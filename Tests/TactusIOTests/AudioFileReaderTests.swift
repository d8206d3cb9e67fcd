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

    /// A WAV written to a pipe (issue 18, item 12) has no sizes: ffmpeg and sox leave 0xFFFFFFFF,
    /// others 0, arecord a 2 GiB placeholder. Each reads as the same samples as the proper file.
    @Test(arguments: [
        (HandWrittenWAV.Encoding.pcm16, false, false), (.pcm16, true, true), (.pcm8, false, false),
        (.pcm24, false, true), (.pcm32, true, false), (.float32, false, false), (.float64, true, true),
    ])
    func streamedHeadersReadToTheEnd(encoding: HandWrittenWAV.Encoding, extensible: Bool, list: Bool) throws {
        let fx = try AudioFixtures()
        let wav = HandWrittenWAV(encoding: encoding, extensible: extensible, list: list)
        let proper = fx.path("proper.wav")
        try Data(wav.bytes()).write(to: URL(fileURLWithPath: proper))
        let expected = try AudioFileReader.readAll(path: proper, sampleRate: 44_100)
        #expect(expected.count == wav.frames)
        #expect(abs((expected.map(abs).max() ?? 0) - 0.5) < 0.01)
        for (riff, data): (UInt32?, UInt32) in [(0xFFFF_FFFF, 0xFFFF_FFFF), (0, 0), (nil, 0xFFFF_FFFF), (nil, 0),
                                                (0xFFFF_FFFF, 0), (nil, 0x7FFF_FF00), (nil, 0x8000_0000)] {
            let p = fx.path("streamed.wav")
            try Data(wav.bytes(riffSize: riff, dataSize: data)).write(to: URL(fileURLWithPath: p))
            var samples: [Float] = []
            var message = "no error"
            do { samples = try AudioFileReader.readAll(path: p, sampleRate: 44_100) } catch { message = "\(error)" }
            #expect(message == "no error", "RIFF \(riff.map { String($0, radix: 16) } ?? "right"), data \(data)")
            #expect(samples == expected, "RIFF \(riff.map { String($0, radix: 16) } ?? "right"), data \(data)")
        }
    }

    /// The sizes that mark a stream are not an excuse for a file cut short: a proper header that
    /// announces more than the file holds is still an error, and so is an empty data chunk.
    @Test func truncatedProperFileIsStillAnError() throws {
        let fx = try AudioFixtures()
        let wav = HandWrittenWAV(encoding: .pcm16, extensible: false, list: true)
        let bytes = wav.bytes()
        let p = fx.path("cut.wav")
        try Data(bytes.prefix(bytes.count * 2 / 3)).write(to: URL(fileURLWithPath: p))
        var message = "no error"
        do { _ = try AudioFileReader.readAll(path: p, sampleRate: 44_100) } catch { message = "\(error)" }
        #expect(message.hasPrefix("\(p): truncated"), "\(message)")
        // A header with no audio after it: empty, as before.
        let header = Array(bytes.prefix(bytes.count - 2 * wav.frames))
        let empty = fx.path("empty.wav")
        try Data(HandWrittenWAV.patching(header, riffSize: 0, dataSize: 0)).write(to: URL(fileURLWithPath: empty))
        message = "no error"
        do { _ = try AudioFileReader.readAll(path: empty, sampleRate: 44_100) } catch { message = "\(error)" }
        #expect(message == "\(empty): the file holds no audio samples")
    }

    /// A pipe (`tactus track /dev/stdin` from ffmpeg) is refused with the reason, instead of
    /// reading as empty: libsndfile and the header checks need to seek.
    /// A header the reader refuses after libsndfile opened it (here: no frames) closed the handle
    /// twice, once in the refusal and once in deinit: a double free, found by the audio fuzzer.
    /// Under tools/sanitize.sh's ASan pass the old code aborts here.
    @Test func aRefusedHeaderClosesTheFileOnce() throws {
        let seed = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("fuzz/corpus/audio/regression-double-close.wav").path
        #expect(throws: AudioFileError.self) { _ = try AudioFileReader(path: seed) }
    }

    @Test func aPipeIsRefusedWithTheReason() throws {
        let fx = try AudioFixtures()
        let fifo = fx.path("pipe.wav")
        #expect(mkfifo(fifo, 0o600) == 0)
        var message = "no error"
        do { _ = try AudioFileReader(path: fifo) } catch { message = "\(error)" }
        #expect(message.hasPrefix("\(fifo): cannot open: not a regular file"), "\(message)")
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
            #expect(error.description
                    == "\(junk): not a usable weight file: does not start with \"TACTUSNN\": not a Tactus weight file")
        }
    }
}

/// WAV bytes written by hand, as a pipe writer leaves them: PCM 8/16/24/32-bit or float, plain or
/// WAVE_FORMAT_EXTENSIBLE, optionally with a LIST chunk before the data (as ffmpeg writes).
struct HandWrittenWAV {
    enum Encoding: Sendable { case pcm8, pcm16, pcm24, pcm32, float32, float64 }
    let encoding: Encoding
    let extensible: Bool
    let list: Bool
    let frames = 22_050

    func bytes(riffSize: UInt32? = nil, dataSize: UInt32? = nil) -> [UInt8] {
        let (tag, bits): (UInt16, UInt16) = switch encoding {
        case .pcm8: (1, 8)
        case .pcm16: (1, 16)
        case .pcm24: (1, 24)
        case .pcm32: (1, 32)
        case .float32: (3, 32)
        case .float64: (3, 64)
        }
        var payload: [UInt8] = []
        for i in 0..<frames {
            let x = 0.5 * sin(2 * Double.pi * 440 * Double(i) / 44_100)
            switch encoding {
            case .pcm8: payload.append(UInt8(128 + Int((x * 127).rounded())))
            case .pcm16: payload += le(UInt16(bitPattern: Int16((x * 32767).rounded())))
            case .pcm24: payload += le(UInt32(bitPattern: Int32((x * 8_388_607).rounded()))).prefix(3)
            case .pcm32: payload += le(UInt32(bitPattern: Int32((x * 2_147_483_647).rounded())))
            case .float32: payload += le(Float(x).bitPattern)
            case .float64: payload += le(x.bitPattern)
            }
        }
        let align = bits / 8
        var fmt = le(extensible ? UInt16(0xFFFE) : tag) + le(UInt16(1)) + le(UInt32(44_100))
            + le(UInt32(44_100) * UInt32(align)) + le(align) + le(bits)
        if extensible {
            // cbSize, valid bits, channel mask, then the sub-format GUID (tag + the fixed tail).
            fmt += le(UInt16(22)) + le(bits) + le(UInt32(4)) + le(tag)
                + [0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71]
        }
        var chunks = Array("fmt ".utf8) + le(UInt32(fmt.count)) + fmt
        if tag == 3 { chunks += Array("fact".utf8) + le(UInt32(4)) + le(UInt32(frames)) }
        if list {
            let info = Array("INFOISFT".utf8) + le(UInt32(14)) + Array("Lavf60.16.100\0".utf8)
            chunks += Array("LIST".utf8) + le(UInt32(info.count)) + info
        }
        chunks += Array("data".utf8) + le(UInt32(payload.count)) + payload
        let file = Array("RIFF".utf8) + le(UInt32(4 + chunks.count)) + Array("WAVE".utf8) + chunks
        return Self.patching(file, riffSize: riffSize, dataSize: dataSize)
    }

    /// The same bytes with the RIFF and/or data sizes overwritten.
    static func patching(_ file: [UInt8], riffSize: UInt32?, dataSize: UInt32?) -> [UInt8] {
        var out = file
        if let riffSize { out.replaceSubrange(4..<8, with: le(riffSize)) }
        if let dataSize {
            var offset = 12
            while !out[offset..<(offset + 4)].elementsEqual("data".utf8) {
                let size = Int(out[offset + 4]) | Int(out[offset + 5]) << 8 | Int(out[offset + 6]) << 16
                    | Int(out[offset + 7]) << 24
                offset += 8 + size + size % 2
            }
            out.replaceSubrange((offset + 4)..<(offset + 8), with: le(dataSize))
        }
        return out
    }
}

private func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
}
