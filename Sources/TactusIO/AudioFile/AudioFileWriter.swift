import CSndfile

/// Writes mono float samples to a 32-bit float WAV file (test signals, rehearsal material).
public enum AudioFileWriter {
    public static func writeWAV(_ samples: [Float], sampleRate: Int, to path: String) throws(AudioFileError) {
        var info = SF_INFO(frames: 0, samplerate: Int32(sampleRate), channels: 1,
                           format: Int32(SF_FORMAT_WAV | SF_FORMAT_FLOAT), sections: 0, seekable: 0)
        guard let file = sf_open(path, Int32(SFM_WRITE), &info) else {
            throw AudioFileError(path: path, reason: .notReadable(String(cString: sf_strerror(nil))))
        }
        let written = samples.withUnsafeBufferPointer { sf_writef_float(file, $0.baseAddress, sf_count_t($0.count)) }
        sf_close(file)
        guard written == samples.count else {
            throw AudioFileError(path: path, reason: .readFailed("wrote \(written) of \(samples.count) samples"))
        }
    }
}
