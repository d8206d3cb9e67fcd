import Foundation
import Testing

/// `tactus features`: the network input written for training (frame count, width, file layout).
@Suite struct FeaturesCommandTests {
    static let width = 162   // 2 × 81 bands, madmom's online beat features

    struct Header {
        var frames: Int
        var width: Int
        var frameRate: Float
        var values: [Float]
    }

    func temporary(_ ext: String) -> String {
        NSTemporaryDirectory() + "tactus-features-\(UUID().uuidString).\(ext)"
    }

    /// Parses the raw format: TACTUSFT, u32 version, u32 frames, u32 width, f32 fps, f32 data.
    func readRaw(_ path: String) throws -> Header {
        let d = try Data(contentsOf: URL(fileURLWithPath: path))
        try #require(d.count >= 24)
        #expect(String(decoding: d.prefix(8), as: UTF8.self) == "TACTUSFT")
        func u32(_ at: Int) -> UInt32 {
            d.subdata(in: at..<(at + 4)).withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }
        }
        #expect(u32(8) == 1)
        let frames = Int(u32(12)), width = Int(u32(16))
        let fps = Float(bitPattern: u32(20))
        try #require(d.count == 24 + 4 * frames * width)
        let values = (0..<(frames * width)).map { Float(bitPattern: u32(24 + 4 * $0)) }
        return Header(frames: frames, width: width, frameRate: fps, values: values)
    }

    /// Parses a .npy file written by the command (format 1.0, '<f4', C order).
    func readNpy(_ path: String) throws -> Header {
        let d = try Data(contentsOf: URL(fileURLWithPath: path))
        try #require(d.count >= 10)
        #expect(d.prefix(6) == Data([0x93]) + Data("NUMPY".utf8))
        let headerLength = Int(d[8]) | Int(d[9]) << 8
        #expect((10 + headerLength) % 64 == 0)
        let header = String(decoding: d.subdata(in: 10..<(10 + headerLength)), as: UTF8.self)
        #expect(header.contains("'descr': '<f4'") && header.contains("'fortran_order': False"))
        let shape = try #require(header.range(of: #"\((\d+), (\d+)\)"#, options: .regularExpression))
        let dims = header[shape].dropFirst().dropLast().split(separator: ",")
            .map { Int($0.trimmingCharacters(in: .whitespaces))! }
        let start = 10 + headerLength
        try #require(d.count == start + 4 * dims[0] * dims[1])
        let values = stride(from: start, to: d.count, by: 4).map { at in
            Float(bitPattern: d.subdata(in: at..<(at + 4)).withUnsafeBytes {
                UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self))
            })
        }
        return Header(frames: dims[0], width: dims[1], frameRate: 100, values: values)
    }

    /// A mono 16-bit PCM WAV: a click every 0.5 s over quiet noise.
    func writeWAV(_ path: String, seconds: Double, rate: Int) throws {
        let n = Int(seconds * Double(rate))
        var state: UInt64 = 12345
        var pcm = Data(capacity: 2 * n)
        for i in 0..<n {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            var x = Double(Int64(bitPattern: state >> 11) % 2000) / 2000 * 0.01
            if i % (rate / 2) < 200 { x += 0.8 * sin(Double(i) * 0.3) }
            let s = Int16(max(-32767, min(32767, x * 32767)))
            withUnsafeBytes(of: s.littleEndian) { pcm.append(contentsOf: $0) }
        }
        var d = Data("RIFF".utf8)
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { d.append(contentsOf: $0) } }
        func u16(_ v: Int) { withUnsafeBytes(of: UInt16(v).littleEndian) { d.append(contentsOf: $0) } }
        u32(36 + pcm.count); d.append(Data("WAVEfmt ".utf8))
        u32(16); u16(1); u16(1); u32(rate); u32(2 * rate); u16(2); u16(16)
        d.append(Data("data".utf8)); u32(pcm.count); d.append(pcm)
        try d.write(to: URL(fileURLWithPath: path))
    }

    /// Frames end at samples 0, hop, 2·hop, …: n samples make ⌊(n − 1)/hop⌋ + 1 frames.
    @Test func exampleGivesOneRowPerHop() throws {
        let out = temporary("bin")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try TrackCommandTests().run(["features", "--example", "--output", out])
        #expect(r.status == 0, "\(r.stderr)")
        let f = try readRaw(out)
        #expect(f.width == Self.width)
        #expect(f.frames == (30 * 44_100 - 1) / 441 + 1)   // the 30 s example
        #expect(f.frameRate == 100)
        #expect(f.values.allSatisfy { $0.isFinite && $0 >= 0 })
        // The difference half is zero on the first frame; the drums make it positive later.
        #expect(f.values[Self.width / 2..<Self.width].allSatisfy { $0 == 0 })
        #expect(f.values[(Self.width / 2)...].contains { $0 > 0.1 })
    }

    @Test func wavFileAtTheProcessingRate() throws {
        let wav = temporary("wav"), out = temporary("npy")
        defer { try? FileManager.default.removeItem(atPath: wav); try? FileManager.default.removeItem(atPath: out) }
        try writeWAV(wav, seconds: 3, rate: 44_100)
        let r = try TrackCommandTests().run(["features", wav, "--output", out])
        #expect(r.status == 0, "\(r.stderr)")
        let f = try readNpy(out)
        #expect(f.width == Self.width)
        #expect(f.frames == (3 * 44_100 - 1) / 441 + 1)
        #expect(f.values.count == f.frames * f.width)
    }

    /// Other rates go through the same resampler as `tactus track`: still 100 frames/s.
    @Test func wavFileIsResampled() throws {
        let wav = temporary("wav"), out = temporary("bin")
        defer { try? FileManager.default.removeItem(atPath: wav); try? FileManager.default.removeItem(atPath: out) }
        try writeWAV(wav, seconds: 4, rate: 22_050)
        let r = try TrackCommandTests().run(["features", wav, "--output", out])
        #expect(r.status == 0, "\(r.stderr)")
        let f = try readRaw(out)
        #expect(f.width == Self.width)
        #expect(abs(f.frames - 400) <= 1, "\(f.frames) frames for 4 s")
    }

    @Test func aMissingFileFailsNamingIt() throws {
        let out = temporary("npy")
        let r = try TrackCommandTests().run(["features", "/nonexistent/song.wav", "--output", out])
        #expect(r.status != 0)
        #expect(r.stderr.contains("/nonexistent/song.wav: no such file"))
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
