/// Cuts a sample stream into overlapping frames whose window lies entirely in the past
/// (madmom's `origin='online'`): frame `i` covers samples `i·hop − (frameSize−1) … i·hop`,
/// zero-padded before the stream starts. A frame is complete as soon as its last sample arrives,
/// so the framer never waits for the future.
///
/// Samples live in a mirrored circular buffer (each sample written twice), so every frame is one
/// contiguous run of memory without copying. All storage is allocated once in `init`.
public final class Framer {
    public let frameSize: Int
    public let hopSize: Int
    /// Index of the next frame to emit (frames emitted so far).
    public private(set) var frameIndex: Int = 0
    /// Samples consumed since the stream started (the stream clock).
    public private(set) var samplesConsumed: Int = 0

    private let buffer: UnsafeMutablePointer<Float>
    private var writePosition = 0
    /// Samples still to come before the next frame is complete (frame 0 needs sample 0).
    private var untilNextFrame = 1

    public init(frameSize: Int, hopSize: Int) {
        precondition(frameSize > 0 && hopSize > 0, "frame and hop size must be positive")
        self.frameSize = frameSize
        self.hopSize = hopSize
        buffer = .allocate(capacity: 2 * frameSize)
        buffer.initialize(repeating: 0, count: 2 * frameSize)
    }

    deinit { buffer.deallocate() }

    public func reset() {
        buffer.update(repeating: 0, count: 2 * frameSize)
        writePosition = 0
        untilNextFrame = 1
        frameIndex = 0
        samplesConsumed = 0
        repairedSamples = 0
    }

    /// Appends samples; calls `onFrame(frame, index)` for every frame they complete, in order.
    /// The frame pointer is valid only during the call.
    public func push(_ samples: UnsafeBufferPointer<Float>,
                     onFrame: (UnsafeBufferPointer<Float>, Int) throws -> Void) rethrows {
        var offset = 0
        let count = samples.count
        while offset < count {
            let n = min(untilNextFrame, count - offset)
            append(samples.baseAddress! + offset, n)
            offset += n
            untilNextFrame -= n
            if untilNextFrame == 0 {
                try onFrame(currentFrame, frameIndex)
                frameIndex += 1
                untilNextFrame = hopSize
            }
        }
    }

    /// The last `frameSize` samples, oldest first.
    var currentFrame: UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: buffer + writePosition, count: frameSize)
    }

    /// Samples from a broken source (NaN, ±Inf, absurd magnitudes) would poison every later
    /// spectrum and the network's state: they enter as silence (non-finite) or clipped to ±`sampleLimit`.
    public static let sampleLimit: Float = 64
    /// Samples that were non-finite or beyond ±`sampleLimit` since the start (or `reset`).
    public private(set) var repairedSamples = 0

    func append(_ source: UnsafePointer<Float>, _ n: Int) {
        var i = 0
        while i < n {
            var value = source[i]
            if !(abs(value) <= Self.sampleLimit) {
                value = value.isFinite ? min(max(value, -Self.sampleLimit), Self.sampleLimit) : 0
                repairedSamples += 1
            }
            buffer[writePosition] = value
            buffer[writePosition + frameSize] = value
            writePosition += 1
            if writePosition == frameSize { writePosition = 0 }
            i += 1
        }
        samplesConsumed += n
    }
}
