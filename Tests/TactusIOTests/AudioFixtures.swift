import CSndfile
import Foundation

/// Writes test audio with libsndfile into a fresh temporary directory.
final class AudioFixtures {
    let directory: String

    init() throws {
        directory = NSTemporaryDirectory() + "tactus-io-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }

    static func formatAvailable(_ format: Int32, channels: Int32 = 1, rate: Int32 = 44_100) -> Bool {
        var info = SF_INFO(frames: 0, samplerate: rate, channels: channels, format: format, sections: 0, seekable: 0)
        return sf_format_check(&info) == 1
    }

    /// Interleaved samples in [-1, 1].
    @discardableResult
    func write(_ name: String, _ samples: [Float], rate: Int32 = 44_100, channels: Int32 = 1,
               format: Int32 = Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_16)) throws -> String {
        let p = path(name)
        var info = SF_INFO(frames: 0, samplerate: rate, channels: channels, format: format, sections: 0, seekable: 0)
        guard let f = sf_open(p, Int32(SFM_WRITE), &info) else {
            throw NSError(domain: "fixture", code: 1,
                          userInfo: [NSLocalizedDescriptionKey: String(cString: sf_strerror(nil))])
        }
        _ = samples.withUnsafeBufferPointer {
            sf_writef_float(f, $0.baseAddress, sf_count_t(samples.count / Int(channels)))
        }
        sf_close(f)
        return p
    }

    func sine(frequency: Double, rate: Double, seconds: Double, amplitude: Float = 0.5) -> [Float] {
        (0..<Int(rate * seconds)).map { amplitude * Float(sin(2 * Double.pi * frequency * Double($0) / rate)) }
    }
}
