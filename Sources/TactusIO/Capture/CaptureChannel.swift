import Atomics
import Glibc

/// When one capture period was taken: the first sample's index on the device-rate stream clock and
/// its capture time on CLOCK_MONOTONIC.
public struct CaptureStamp: Sendable, Equatable, BitwiseCopyable {
    public var firstSample: Int
    public var frames: Int
    public var hostNanos: Int64
    /// Device-rate samples lost just before this period (xrun, device loss): the stream clock
    /// advances over them, so a gap stays a gap.
    public var gapBefore: Int

    public init(firstSample: Int, frames: Int, hostNanos: Int64, gapBefore: Int) {
        self.firstSample = firstSample; self.frames = frames; self.hostNanos = hostNanos; self.gapBefore = gapBefore
    }
}

/// Something the capture thread reports without logging: the main thread logs it.
public struct CaptureNotice: Sendable, Equatable, BitwiseCopyable {
    public enum Kind: UInt8, Sendable, BitwiseCopyable {
        case opened = 1          // value: device sample rate
        case openFailed = 2      // value: negative errno
        case xrun = 3            // value: samples lost
        case suspended = 4
        case lost = 5            // value: negative errno
        case realtime = 6        // value: priority granted
        case realtimeDenied = 7  // value: errno
        case ended = 8           // the file source reached its end
        case retrying = 9        // value: milliseconds until the next attempt
    }

    public var kind: Kind
    public var value: Int64
    public var hostNanos: Int64

    public init(kind: Kind, value: Int64, hostNanos: Int64) {
        self.kind = kind; self.value = value; self.hostNanos = hostNanos
    }
}

/// The hand-off from a capture thread to the processing thread: mono samples at the device rate,
/// one stamp per period, notices for the main thread, and a semaphore that wakes the consumer.
/// Writing never blocks; a full ring drops the period and counts it.
public final class CaptureChannel: @unchecked Sendable {
    public let samples: SPSCRing<Float>
    public let stamps: SPSCRing<CaptureStamp>
    public let notices: SPSCRing<CaptureNotice>
    /// Device sample rate of the samples now flowing (0 until a device is open).
    public let sampleRate = UnsafeAtomic<Int>.create(0)
    public let xruns = UnsafeAtomic<Int>.create(0)
    public let droppedPeriods = UnsafeAtomic<Int>.create(0)
    /// Samples of the dropped periods (the ring was full).
    public let droppedSampleCount = UnsafeAtomic<Int>.create(0)
    private let wake = WakeSemaphore()

    public init(capacitySamples: Int, periods: Int = 1024) {
        samples = SPSCRing(capacity: capacitySamples, filler: 0)
        stamps = SPSCRing(capacity: periods,
                          filler: CaptureStamp(firstSample: 0, frames: 0, hostNanos: 0, gapBefore: 0))
        notices = SPSCRing(capacity: 256, filler: CaptureNotice(kind: .opened, value: 0, hostNanos: 0))
    }

    deinit {
        sampleRate.destroy(); xruns.destroy(); droppedPeriods.destroy(); droppedSampleCount.destroy()
    }

    /// Samples of periods dropped since the last one that went in (producer side only).
    private var droppedSamples = 0

    /// Producer: one period of mono samples. Samples and stamp go in together or not at all; a
    /// dropped period becomes a gap before the next one that goes in, so the stream clock
    /// advances over it (a gap stays a gap, not a shift of everything after it).
    public func push(_ period: UnsafeBufferPointer<Float>, stamp: CaptureStamp) {
        var s = stamp
        if samples.capacity - samples.available >= period.count && stamps.capacity - stamps.available >= 1 {
            s.gapBefore += droppedSamples
            droppedSamples = 0
            // Samples first: the consumer reads a stamp, then that many samples.
            samples.write(period)
            stamps.write(s)
        } else {
            droppedSamples += stamp.gapBefore + period.count
            droppedPeriods.wrappingIncrement(ordering: .relaxed)
            droppedSampleCount.wrappingIncrement(by: period.count, ordering: .relaxed)
        }
        wake.post()
    }

    /// Producer: a notice for the main thread (dropped when 256 are pending).
    public func notify(_ kind: CaptureNotice.Kind, _ value: Int64 = 0) {
        var n = CaptureNotice(kind: kind, value: value, hostNanos: MonotonicClock.nanos())
        notices.write(n)
        wake.post()
    }

    /// Consumer: waits until something arrives or `timeout` seconds pass.
    public func wait(timeout: Double) { wake.wait(timeout: timeout) }

    /// Wakes a consumer blocked in `wait` (used at shutdown).
    public func poke() { wake.post() }
}

/// CLOCK_MONOTONIC in nanoseconds.
public enum MonotonicClock {
    public static func nanos() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// The same clock in seconds, for intervals measured by the service (not for the stream).
    public static func seconds() -> Double { Double(nanos()) / 1e9 }
}
