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
    /// The patched view libsndfile reads a streamed WAV through; kept alive as long as `file`.
    private let streamed: StreamedWAV?

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
        // libsndfile needs to seek (and so do the size checks here): a pipe would read as empty.
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw AudioFileError(path: path, reason: .notReadable("not a regular file (a pipe or device cannot "
                + "be read from the start again): save the stream to a file first"))
        }
        if status.st_size == 0 { throw AudioFileError(path: path, reason: .empty) }
        var info = SF_INFO()
        streamed = StreamedWAV(path: path)
        let opened = if let streamed { sf_open_virtual(streamed.io, Int32(SFM_READ), &info, streamed.userData) }
            else { sf_open(path, Int32(SFM_READ), &info) }
        guard let handle = opened else {
            let why = String(cString: sf_strerror(nil))
            throw AudioFileError(path: path, reason: .unsupportedFormat(why))
        }
        file = handle
        fileSampleRate = Int(info.samplerate)
        channelCount = Int(info.channels)
        frameCount = Int(info.frames)
        isPCM16 = info.format & Int32(SF_FORMAT_SUBMASK) == Int32(SF_FORMAT_PCM_16)
        // Every property is set from here on, so a throw runs deinit, which closes the handle
        // (closing it here as well was a double free, found by the audio fuzzer).
        // Beyond these, a header is corrupt (or hostile) rather than unusual.
        guard (1...1024).contains(channelCount), (1_000...768_000).contains(fileSampleRate) else {
            throw AudioFileError(
                path: path, reason: .unsupportedFormat("header has \(channelCount) channels at \(fileSampleRate) Hz"))
        }
        guard frameCount > 0 else {
            throw AudioFileError(path: path, reason: .empty)
        }
        if let detail = Self.truncation(handle) {
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
                resampler = try Resampler(inputRate: Double(fileSampleRate), outputRate: sampleRate,
                                          maxBlock: blockSize)
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

/// A RIFF/WAVE file written to a pipe (`ffmpeg … -f wav -`, `arecord`, `sox … -t wav -`): the
/// writer could not go back to fill in its sizes, so the data chunk says 0, 0xFFFFFFFF or
/// arecord's 2 GiB placeholder. libsndfile 1.2 reads such a file as empty (size 0) or as cut
/// short (the others; `truncation` would report it). The audio runs to the end of the file, so
/// libsndfile is handed the same bytes through virtual I/O with both sizes patched to the file's.
/// A proper file cut short keeps a size that is neither, and is still reported as truncated.
final class StreamedWAV {
    let io: UnsafeMutablePointer<SF_VIRTUAL_IO>
    var userData: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }
    private let fd: Int32
    private let length: Int64
    private var position: Int64 = 0
    /// Little-endian replacements for the RIFF and data sizes, at their offsets.
    private let patches: [(offset: Int64, bytes: [UInt8])]

    /// nil unless the file is a streamed WAV (then its sizes are patched).
    init?(path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        var status = stat()
        guard fstat(fd, &status) == 0, let data = Self.streamedDataChunk(fd, length: Int64(status.st_size)) else {
            close(fd)
            return nil
        }
        self.fd = fd
        length = Int64(status.st_size)
        let available = length - data - 8
        patches = [(4, Self.le32(length - 8)), (data + 4, Self.le32(available))]
        io = .allocate(capacity: 1)
        io.initialize(to: SF_VIRTUAL_IO(
            get_filelen: { StreamedWAV.from($0).length },
            seek: { offset, whence, user in StreamedWAV.from(user).seek(offset, whence) },
            read: { buffer, count, user in StreamedWAV.from(user).read(buffer, count) },
            write: { _, _, _ in -1 },
            tell: { StreamedWAV.from($0).position }))
    }

    deinit {
        io.deallocate()
        close(fd)
    }

    private static func from(_ user: UnsafeMutableRawPointer?) -> StreamedWAV {
        Unmanaged<StreamedWAV>.fromOpaque(user!).takeUnretainedValue()
    }

    /// The offset of the data chunk's header when its size is a streaming placeholder.
    private static func streamedDataChunk(_ fd: Int32, length: Int64) -> Int64? {
        var header = [UInt8](repeating: 0, count: 12)
        guard pread(fd, &header, 12, 0) == 12, header[0..<4].elementsEqual("RIFF".utf8),
              header[8..<12].elementsEqual("WAVE".utf8) else { return nil }
        var offset: Int64 = 12
        // fmt, fact, LIST, JUNK, … come first; a few dozen at most in any real file.
        for _ in 0..<64 {
            var chunk = [UInt8](repeating: 0, count: 8)
            guard offset + 8 <= length, pread(fd, &chunk, 8, off_t(offset)) == 8 else { return nil }
            let size = Int64(chunk[4]) | Int64(chunk[5]) << 8 | Int64(chunk[6]) << 16 | Int64(chunk[7]) << 24
            if chunk[0..<4].elementsEqual("data".utf8) {
                let available = length - offset - 8
                // 0 with audio after it, ffmpeg's and sox's 0xFFFFFFFF, and what arecord writes to
                // a pipe (0x7FFFFF00 or 2 GiB, which no file smaller than that can hold).
                let placeholder = size == 0 ? available > 0
                    : size == 0xFFFF_FFFF || (size >= 0x7FFF_FF00 && size > available)
                return placeholder ? offset : nil
            }
            offset += 8 + size + (size & 1)
        }
        return nil
    }

    /// Sizes above 4 GiB cannot be written: libsndfile then reads the first 4 GiB.
    private static func le32(_ value: Int64) -> [UInt8] {
        let v = UInt32(clamping: max(0, value))
        return (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) }
    }

    private func seek(_ offset: sf_count_t, _ whence: Int32) -> sf_count_t {
        let base: Int64 = switch whence {
        case SEEK_CUR: position
        case SEEK_END: length
        default: 0
        }
        let (target, overflow) = base.addingReportingOverflow(Int64(offset))
        guard !overflow, target >= 0 else { return -1 }
        position = target
        return position
    }

    private func read(_ buffer: UnsafeMutableRawPointer?, _ count: sf_count_t) -> sf_count_t {
        guard let buffer, count > 0 else { return 0 }
        var done = 0
        while done < Int(count) {
            let n = pread(fd, buffer + done, Int(count) - done, off_t(position) + off_t(done))
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            done += n
        }
        for (offset, bytes) in patches {
            for (k, byte) in bytes.enumerated() where offset + Int64(k) >= position
                && offset + Int64(k) < position + Int64(done) {
                buffer.storeBytes(of: byte, toByteOffset: Int(offset + Int64(k) - position), as: UInt8.self)
            }
        }
        position += Int64(done)
        return sf_count_t(done)
    }
}
