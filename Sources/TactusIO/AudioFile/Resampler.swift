import CSoxr

/// Band-limited sample-rate conversion of a mono float stream (libsoxr, high quality: 20-bit,
/// linear phase). Streaming: feed blocks, then `flush` at the end to drain the filter's delay.
public final class Resampler {
    public let inputRate: Double
    public let outputRate: Double
    private let soxr: soxr_t
    private let output: UnsafeMutablePointer<Float>
    private let outputCapacity: Int

    /// `maxBlock`: the largest input block that will be passed to `process`.
    public init(inputRate: Double, outputRate: Double, maxBlock: Int) throws(ResamplerError) {
        self.inputRate = inputRate
        self.outputRate = outputRate
        var error: soxr_error_t? = nil
        var quality = soxr_quality_spec(UInt(SOXR_HQ), 0)
        var io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I)
        guard let s = soxr_create(inputRate, outputRate, 1, &error, &io, &quality, nil), error == nil else {
            throw ResamplerError(message: error.map { String(cString: $0) } ?? "soxr_create failed")
        }
        soxr = s
        outputCapacity = Int((Double(maxBlock) * outputRate / inputRate).rounded(.up)) + 1024
        output = .allocate(capacity: outputCapacity)
    }

    deinit {
        soxr_delete(soxr)
        output.deallocate()
    }

    /// Converts one block; `sink` receives the output (possibly several times, possibly empty).
    public func process(_ input: UnsafeBufferPointer<Float>,
                        sink: (UnsafeBufferPointer<Float>) throws -> Void) throws {
        var offset = 0
        repeat {
            var consumed = 0, produced = 0
            let remaining = input.count - offset
            let err = soxr_process(soxr, input.baseAddress.map { $0 + offset }, remaining, &consumed,
                                   output, outputCapacity, &produced)
            if let err { throw ResamplerError(message: String(cString: err)) }
            offset += consumed
            if produced > 0 { try sink(UnsafeBufferPointer(start: output, count: produced)) }
            if consumed == 0 && produced == 0 { break }
        } while offset < input.count
    }

    /// Drains the samples still inside the filter at the end of the stream.
    public func flush(sink: (UnsafeBufferPointer<Float>) throws -> Void) throws {
        while true {
            var produced = 0
            let err = soxr_process(soxr, nil, 0, nil, output, outputCapacity, &produced)
            if let err { throw ResamplerError(message: String(cString: err)) }
            if produced == 0 { break }
            try sink(UnsafeBufferPointer(start: output, count: produced))
        }
    }
}

public struct ResamplerError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
