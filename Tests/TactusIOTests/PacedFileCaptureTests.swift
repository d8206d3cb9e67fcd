import Atomics
import CSndfile
import Foundation
import TactusIO
import Testing

/// The paced file source decodes on its own thread, a second or so ahead: every sample must
/// still arrive once, in order, on a continuous stream clock, also across loop passes.
@Suite struct PacedFileCaptureTests {
    /// Everything the source pushed: samples and stamps, read after it stopped.
    func drain(_ channel: CaptureChannel) -> (samples: [Float], stamps: [CaptureStamp]) {
        var samples = [Float](repeating: 0, count: channel.samples.available)
        let n = samples.withUnsafeMutableBufferPointer { channel.samples.read(into: $0) }
        var stamps = [CaptureStamp](repeating: CaptureStamp(firstSample: 0, frames: 0, hostNanos: 0, gapBefore: 0),
                                    count: channel.stamps.available)
        _ = stamps.withUnsafeMutableBufferPointer { channel.stamps.read(into: $0) }
        return (Array(samples[0..<n]), stamps)
    }

    func expectContinuous(_ stamps: [CaptureStamp], total: Int) {
        var next = 0
        for s in stamps {
            #expect(s.firstSample == next && s.gapBefore == 0)
            next += s.frames
        }
        #expect(next == total)
        #expect(zip(stamps, stamps.dropFirst()).allSatisfy { $0.hostNanos < $1.hostNanos }, "paced: host times rise")
    }

    @Test func everySampleOnceInOrder() throws {
        let fixtures = try AudioFixtures()
        // 20 s of noise-like but reproducible samples (a float file: bit-exact through the reader).
        let count = 20 * 44_100
        let audio = (0..<count).map { Float(($0 &* 7919) % 20_011) / 20_011 - 0.5 }
        let path = try fixtures.write("long.wav", audio, format: Int32(SF_FORMAT_WAV | SF_FORMAT_FLOAT))
        let source = try PacedFileCapture(path: path, periodFrames: 441, speed: 200)
        let channel = CaptureChannel(capacitySamples: 1 << 20, periods: 4096)
        let stop = UnsafeAtomic<Bool>.create(false)
        defer { stop.destroy() }
        source.run(into: channel, stop: stop)  // returns at the end of the file
        let (samples, stamps) = drain(channel)
        #expect(samples == audio)
        #expect(channel.droppedPeriods.load(ordering: .relaxed) == 0)
        expectContinuous(stamps, total: count)
        #expect(source.failure.withLock { $0 } == nil)
    }

    @Test func loopsWithoutASeam() throws {
        let fixtures = try AudioFixtures()
        let audio = (0..<44_100).map { Float($0 % 1000) / 1000 - 0.5 }  // 1 s
        let path = try fixtures.write("loop.wav", audio, format: Int32(SF_FORMAT_WAV | SF_FORMAT_FLOAT))
        let source = try PacedFileCapture(path: path, periodFrames: 441, loop: true, speed: 40)
        let channel = CaptureChannel(capacitySamples: 1 << 20, periods: 8192)
        let stop = UnsafeAtomic<Bool>.create(false)
        defer { stop.destroy() }
        let thread = CaptureThread(source: source, channel: channel, stop: stop, priority: 0)
        thread.start()
        // About 4 passes at 40×, then stop: the source must end within its join time.
        usleep(100_000)
        stop.store(true, ordering: .relaxed)
        #expect(thread.join(timeout: 2))
        let (samples, stamps) = drain(channel)
        #expect(samples.count > 2 * audio.count, "several passes (\(samples.count) samples)")
        #expect(samples.enumerated().allSatisfy { $0.element == audio[$0.offset % audio.count] },
                "pass after pass, no seam")
        expectContinuous(stamps, total: samples.count)
    }

    @Test func aMissingFileIsAnErrorAtStart() {
        #expect(throws: AudioFileError.self) { try PacedFileCapture(path: "/nonexistent/song.wav") }
    }
}
