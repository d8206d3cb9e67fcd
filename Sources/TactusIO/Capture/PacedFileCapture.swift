import Atomics
import Foundation

/// An audio file played at real-time pace through the same channel as a device: for rehearsing a
/// rig without a microphone, and for tests that drive the whole daemon. The file is decoded and
/// resampled once at start (the loop itself allocates nothing); periods leave on an absolute
/// CLOCK_MONOTONIC schedule, so the pace does not drift.
public final class PacedFileCapture: CaptureSource, @unchecked Sendable {
    public let path: String
    public let sampleRate: Int
    public let periodFrames: Int
    public let loop: Bool
    /// Playback speed (1 = real time); tests may run faster.
    public let speed: Double
    private let samples: [Float]

    public init(path: String, sampleRate: Int = 44_100, periodFrames: Int = 441, loop: Bool = false,
                speed: Double = 1) throws {
        self.path = path
        self.sampleRate = sampleRate
        self.periodFrames = periodFrames
        self.loop = loop
        self.speed = speed
        samples = try AudioFileReader.readAll(path: path, sampleRate: Double(sampleRate))
    }

    public func run(into channel: CaptureChannel, stop: UnsafeAtomic<Bool>) {
        channel.sampleRate.store(sampleRate, ordering: .releasing)
        channel.notify(.opened, Int64(sampleRate))
        let start = MonotonicClock.nanos()
        let periodNanos = Double(periodFrames) / Double(sampleRate) * 1e9 / speed
        var position = 0, streamSample = 0, period = 0
        samples.withUnsafeBufferPointer { all in
            while !stop.load(ordering: .relaxed) {
                if position >= all.count {
                    guard loop, !all.isEmpty else { break }
                    position = 0
                }
                let n = min(periodFrames, all.count - position)
                // The period is "captured" when its last sample has arrived.
                let due = start + Int64(Double(period + 1) * periodNanos)
                sleepUntil(due)
                let firstHost = due - Int64(Double(n) / Double(sampleRate) * 1e9 / speed)
                channel.push(UnsafeBufferPointer(rebasing: all[position..<(position + n)]),
                             stamp: CaptureStamp(firstSample: streamSample, frames: n, hostNanos: firstHost, gapBefore: 0))
                position += n
                streamSample += n
                period += 1
            }
        }
        channel.notify(.ended)
    }
}
