import CSndfile
import Glibc

/// Reads an audio file (anything the system's libsndfile decodes: WAV, FLAC, OGG/Vorbis, Opus,
/// MP3, AIFF, ...), mixes its channels to mono by averaging and resamples it to the processing rate
/// with a band-limited resampler, delivering blocks to a closure as it goes.
public final class AudioFileReader {
    public let path: String
    /// Rate and channel count as stored in the file.
    public let fileSampleRate: Int
    public let channelCount: Int
    /// Sample frames announced by the header.
    public let frameCount: Int
    /// True for 16-bit integer PCM (libsndfile scales it by 1/32768 to floats).
    public let isPCM16: Bool
    public let blockSize: Int
    private let file: OpaquePointer

    public init(path: String, blockSize: Int = 4096) throws(AudioFileError) {
        self.path = path
        self.blockSize = blockSize
        var status = stat()
        guard stat(path, &status) == 0 else { throw AudioFileError(path: path, reason: .notFound) }
        guard status.st_mode & S_IFMT != S_IFDIR else {
            throw AudioFileError(path: path, reason: .notReadable("is a directory"))
        }
        guard access(path, R_OK) == 0 else {
            throw AudioFileError(path: path, reason: .notReadable("permission denied"))
        }
        if status.st_size == 0 { throw AudioFileError(path: path, reason: .empty) }
        var info = SF_INFO()
        guard let handle = sf_open(path, Int32(SFM_READ), &info) else {
            let why = String(cString: sf_strerror(nil))
            throw AudioFileError(path: path, reason: .unsupportedFormat(why))
        }
        file = handle
        fileSampleRate = Int(info.samplerate)
        channelCount = Int(info.channels)
        frameCount = Int(info.frames)
        isPCM16 = info.format & Int32(SF_FORMAT_SUBMASK) == Int32(SF_FORMAT_PCM_16)
        // Beyond these, a header is corrupt (or hostile) rather than unusual.
        guard (1...1024).contains(channelCount), (1_000...768_000).contains(fileSampleRate) else {
            sf_close(handle)
            throw AudioFileError(path: path, reason: .unsupportedFormat("header has \(channelCount) channels at \(fileSampleRate) Hz"))
        }
        guard frameCount > 0 else {
            sf_close(handle)
            throw AudioFileError(path: path, reason: .empty)
        }
        if let detail = Self.truncation(handle) {
            sf_close(handle)
            throw AudioFileError(path: path, reason: .truncated(detail))
        }
    }

    /// libsndfile quietly shortens a WAV/AIFF whose data chunk runs past the end of the file and
    /// notes it in its log as "data : <declared> (should be <present>)": report that as truncation.
    private static func truncation(_ handle: OpaquePointer) -> String? {
        var log = [CChar](repeating: 0, count: 8192)
        _ = sf_command(handle, Int32(SFC_GET_LOG_INFO), &log, Int32(log.count))
        let text = String(decoding: log.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == ":" || $0 == "(" || $0 == ")" })
            // ["data", "<declared>", "should", "be", "<present>"]
            guard fields.count >= 5, fields[0] == "data" || fields[0] == "SSND", fields[2] == "should",
                  let declared = Int(fields[1]), let present = Int(fields[4]), declared > present else { continue }
            return "the header announces \(declared) bytes of audio data, the file holds \(present)"
        }
        return nil
    }

    deinit { sf_close(file) }

    public var duration: Double { Double(frameCount) / Double(fileSampleRate) }

    /// Reads the whole file, calling `sink` with mono blocks at `sampleRate`.
    /// Throws if the file ends before the frames its header announces.
    public func read(resampledTo sampleRate: Double,
                     sink: (UnsafeBufferPointer<Float>) throws -> Void) throws {
        let channels = channelCount
        let interleaved = UnsafeMutablePointer<Float>.allocate(capacity: blockSize * channels)
        let mono = UnsafeMutablePointer<Float>.allocate(capacity: blockSize)
        defer { interleaved.deallocate(); mono.deallocate() }
        let resampler: Resampler?
        if Double(fileSampleRate) != sampleRate {
            do {
                resampler = try Resampler(inputRate: Double(fileSampleRate), outputRate: sampleRate, maxBlock: blockSize)
            } catch {
                throw AudioFileError(path: path, reason: .resampler(error.message))
            }
        } else {
            resampler = nil
        }
        var total = 0
        while true {
            let n = Int(sf_readf_float(file, interleaved, sf_count_t(blockSize)))
            if n <= 0 { break }
            if channels == 1 {
                mono.update(from: interleaved, count: n)
            } else {
                let scale = 1 / Float(channels)
                for i in 0..<n {
                    var sum: Float = 0
                    for c in 0..<channels { sum += interleaved[i * channels + c] }
                    mono[i] = sum * scale
                }
            }
            total += n
            let block = UnsafeBufferPointer(start: mono, count: n)
            if let resampler { try resampler.process(block, sink: sink) } else { try sink(block) }
        }
        let status = sf_error(file)
        if status != 0 {
            throw AudioFileError(path: path, reason: .readFailed(String(cString: sf_strerror(file))))
        }
        if total < frameCount {
            throw AudioFileError(path: path, reason: .truncated(
                "the header announces \(frameCount) sample frames, only \(total) could be read"))
        }
        if total == 0 { throw AudioFileError(path: path, reason: .empty) }
        try resampler?.flush(sink: sink)
    }

    /// Convenience: the whole file as one mono array at `sampleRate`.
    public static func readAll(path: String, sampleRate: Double) throws -> [Float] {
        let reader = try AudioFileReader(path: path)
        var out: [Float] = []
        out.reserveCapacity(Int(reader.duration * sampleRate) + 1024)
        try reader.read(resampledTo: sampleRate) { out.append(contentsOf: $0) }
        return out
    }
}
