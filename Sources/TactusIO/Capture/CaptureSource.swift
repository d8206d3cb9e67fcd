import Atomics
import Glibc

/// A live input: runs on its own thread until `stop` is set, pushing periods into the channel.
public protocol CaptureSource: AnyObject, Sendable {
    /// The capture loop. Blocks only on the device (or, for files, on the pacing clock).
    func run(into channel: CaptureChannel, stop: UnsafeAtomic<Bool>)
}

/// Starts a capture source on a dedicated thread, with SCHED_FIFO priority when permitted.
public final class CaptureThread: @unchecked Sendable {
    private let thread: NamedThread

    public init(source: CaptureSource, channel: CaptureChannel, stop: UnsafeAtomic<Bool>, priority: Int) {
        thread = NamedThread(name: "tactus-capture") {
            if priority > 0 {
                var param = sched_param(sched_priority: Int32(priority))
                let rc = pthread_setschedparam(pthread_self(), SCHED_FIFO, &param)
                channel.notify(rc == 0 ? .realtime : .realtimeDenied, Int64(rc == 0 ? priority : Int(rc)))
            }
            source.run(into: channel, stop: stop)
        }
    }

    public func start() { thread.start() }

    /// Waits for the loop to return (after `stop` was set); false on timeout.
    public func join(timeout: Double) -> Bool { thread.join(timeout: timeout) }
}

/// Sleeps on CLOCK_MONOTONIC until an absolute time (ns): pacing, MIDI clock ticks.
public func sleepUntil(_ nanos: Int64) {
    var ts = timespec(tv_sec: Int(nanos / 1_000_000_000), tv_nsec: Int(nanos % 1_000_000_000))
    while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nil) == EINTR {}
}
