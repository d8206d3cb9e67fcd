import Atomics
import Glibc
import Synchronization

/// An audio file played at real-time pace through the same channel as a device: for rehearsing a
/// rig without a microphone, and for tests that drive the whole daemon. A decoder thread reads
/// and resamples the file a second or so ahead into a ring; the pacing thread takes one period
/// from it at each tick of an absolute CLOCK_MONOTONIC schedule (no drift) and allocates
/// nothing. Memory stays the same whatever the file's length (decoding it whole held 360 MiB
/// for a 31-minute file).
public final class PacedFileCapture: CaptureSource, @unchecked Sendable {
    public let path: String
    public let sampleRate: Int
    public let periodFrames: Int
    public let loop: Bool
    /// Playback speed (1 = real time); tests may run faster.
    public let speed: Double
    /// Decoded samples ahead of the pace.
    private let decoded: SPSCRing<Float>
    private let decoderDone = UnsafeAtomic<Bool>.create(false)
    /// Wakes a decoder waiting for room in the ring (at the end).
    private let decoderWake = WakeSemaphore()
    private let period: UnsafeMutableBufferPointer<Float>
    private let firstReader: Mutex<AudioFileReader?>
    /// Why decoding stopped early (a read error after the header), once `run` has returned.
    public let failure = Mutex<String?>(nil)

    /// Opens the file now, so that a missing, unreadable or truncated file is an error at start.
    public init(path: String, sampleRate: Int = 44_100, periodFrames: Int = 441, loop: Bool = false,
                speed: Double = 1) throws {
        self.path = path
        self.sampleRate = sampleRate
        self.periodFrames = periodFrames
        self.loop = loop
        self.speed = speed
        firstReader = Mutex(try AudioFileReader(path: path))
        // About 1.5 s ahead at real time; more when played faster, so the decoder keeps ahead.
        decoded = SPSCRing(capacity: max(4 * periodFrames, Int(1.5 * max(1, speed / 10) * Double(sampleRate))),
                           filler: 0)
        period = .allocate(capacity: periodFrames)
        period.initialize(repeating: 0)
    }

    deinit {
        decoderDone.destroy()
        period.deallocate()
    }

    public func run(into channel: CaptureChannel, stop: UnsafeAtomic<Bool>) {
        channel.sampleRate.store(sampleRate, ordering: .releasing)
        channel.notify(.opened, Int64(sampleRate))
        let decoder = NamedThread(name: "tactus-decode") { [self] in decode(stop: stop) }
        decoder.start()
        // Start the clock with the ring half full: the decoder then stays ahead.
        while decoded.available < decoded.capacity / 2 && !decoderDone.load(ordering: .acquiring)
                && !stop.load(ordering: .relaxed) {
            sleepUntil(MonotonicClock.nanos() + 1_000_000)
        }
        let start = MonotonicClock.nanos()
        let periodNanos = Double(periodFrames) / Double(sampleRate) * 1e9 / speed
        var streamSample = 0, count = 0
        while !stop.load(ordering: .relaxed) {
            // The period is "captured" when its last sample has arrived.
            let due = start + Int64(Double(count + 1) * periodNanos)
            sleepUntil(due)
            var n = 0
            while true {
                // Done is read before the ring, so nothing written before it was set is missed.
                let finished = decoderDone.load(ordering: .acquiring)
                n += decoded.read(into: UnsafeMutableBufferPointer(rebasing: period[n...]))
                if n == periodFrames || finished || stop.load(ordering: .relaxed) { break }
                sleepUntil(MonotonicClock.nanos() + 200_000)  // the decoder fell behind: wait for it
            }
            if n == 0 { break }
            let firstHost = due - Int64(Double(n) / Double(sampleRate) * 1e9 / speed)
            channel.push(UnsafeBufferPointer(rebasing: period[0..<n]),
                         stamp: CaptureStamp(firstSample: streamSample, frames: n, hostNanos: firstHost, gapBefore: 0))
            streamSample += n
            count += 1
        }
        decoderDone.store(true, ordering: .relaxed)  // tells a decoder still filling to stop
        decoderWake.post()
        _ = decoder.join(timeout: 1)
        channel.notify(.ended)
    }

    private struct Stopped: Error {}

    /// Decoder thread: the file (again and again when looping), resampled, into the ring; waits
    /// while the ring is full. Allocation and file I/O happen here, off the pacing thread.
    private func decode(stop: UnsafeAtomic<Bool>) {
        var reader = firstReader.withLock { r in defer { r = nil }; return r }
        repeat {
            do {
                let r = try reader ?? AudioFileReader(path: path)
                reader = nil
                try r.read(resampledTo: Double(sampleRate)) { block in
                    var offset = 0
                    while offset < block.count {
                        if stop.load(ordering: .relaxed) || decoderDone.load(ordering: .relaxed) { throw Stopped() }
                        let room = decoded.capacity - decoded.available
                        let n = min(room, block.count - offset)
                        if n > 0 {
                            decoded.write(UnsafeBufferPointer(rebasing: block[offset..<(offset + n)]))
                            offset += n
                        } else {
                            // Full: sleep while the pace takes half the ring (~0.7 s in real
                            // time), so the decoder wakes twice a ring, not every few ms.
                            decoderWake.wait(timeout: Double(decoded.capacity / 2) / Double(sampleRate) / speed)
                        }
                    }
                }
            } catch is Stopped {
                break
            } catch {
                failure.withLock { $0 = "\(error)" }
                break
            }
        } while loop && !stop.load(ordering: .relaxed)
        decoderDone.store(true, ordering: .releasing)
    }
}
