import Atomics
import Synchronization
import TactusCore

/// A command on its way to the processing thread: what, when it arrived (CLOCK_MONOTONIC ns),
/// and a number that finds its sender again when the outcome comes back.
public struct ControlRequest: Sendable, BitwiseCopyable {
    public var command: ControlCommand
    public var hostNanos: Int64
    public var tag: Int

    public init(command: ControlCommand, hostNanos: Int64, tag: Int) {
        self.command = command; self.hostNanos = hostNanos; self.tag = tag
    }

    static let empty = ControlRequest(command: .tap, hostNanos: 0, tag: 0)
}

/// What a command did, as the processing thread reports it: the result and the operator's state
/// right after it (for the ack, the `control` notice and the log).
public struct ControlOutcome: Sendable, BitwiseCopyable {
    public var request: ControlRequest
    public var result: ControlResult
    /// When it was applied, on the daemon's stream clock (s).
    public var streamTime: Double
    /// Beat tempo before and after (BPM; 0: none yet).
    public var tempoBefore: Double
    public var tempoAfter: Double
    public var rangeSource: StageControl.RangeSource
    public var rangeLow: Double
    public var rangeHigh: Double
    public var holding: Bool
    public var meter: Int
    public var phrase: Int
    /// The sum of nudges in force (ms).
    public var nudge: Double

    public init(request: ControlRequest, result: ControlResult, streamTime: Double, tempoBefore: Double,
                tempoAfter: Double, control: StageControl, nudge: Double) {
        self.request = request; self.result = result; self.streamTime = streamTime
        self.tempoBefore = tempoBefore; self.tempoAfter = tempoAfter
        rangeSource = control.rangeSource
        rangeLow = control.range.lowerBound; rangeHigh = control.range.upperBound
        holding = control.isHolding
        meter = control.bars.meter; phrase = control.bars.phrase
        self.nudge = nudge
    }

    static let empty = ControlOutcome(
        request: .empty, result: .applied, streamTime: 0, tempoBefore: 0, tempoAfter: 0,
        control: StageControl(frameRate: 100, tempoRange: 1...2), nudge: 0)
}

/// Who sent a command, so that its ack finds the way back.
public enum ControlOrigin: Sendable {
    /// A client of the JSON-line socket, with the request id it gave.
    case socket(client: Int, id: String?)
    /// An OSC sender (acks go back to its address).
    case osc(SocketAddress)
    /// A live page or an API call of the web server (`WebHub` id), with the request id it gave.
    case web(client: Int, id: String?)
    /// The daemon itself or a test.
    case local
}

/// The control path's queues (DESIGN.md, "The control path"): commands go to the processing
/// thread through a bounded lock-free SPSC ring, outcomes come back through another. The
/// producers (the control thread, a test) are serialised by a lock on their side only; the
/// processing thread never takes a lock, never waits and never allocates here.
public final class ControlInbox: @unchecked Sendable {
    public static let capacity = 64
    private let requests = SPSCRing<ControlRequest>(capacity: ControlInbox.capacity, filler: .empty)
    private let outcomes = SPSCRing<ControlOutcome>(capacity: 4 * ControlInbox.capacity, filler: .empty)
    private struct Senders {
        var next = 1
        var origins: [Int: ControlOrigin] = [:]
    }
    private let senders = Mutex(Senders())
    /// Commands refused because the queue was full, and outcomes lost because nobody took them.
    public let dropped = UnsafeAtomic<Int>.create(0)
    /// Wakes whoever reports outcomes (the output thread), when set.
    public var wake: (@Sendable () -> Void)?

    public init() {}

    deinit { dropped.destroy() }

    /// Queues a command (any thread but the processing thread); false when the queue is full.
    @discardableResult
    public func submit(_ command: ControlCommand, hostNanos: Int64 = MonotonicClock.nanos(),
                       origin: ControlOrigin = .local) -> Bool {
        senders.withLock { s in
            let tag = s.next
            s.next += 1
            var r = ControlRequest(command: command, hostNanos: hostNanos, tag: tag)
            guard requests.write(r) else {
                dropped.wrappingIncrement(ordering: .relaxed)
                return false
            }
            // Bounded: an outcome that never came back (a dropped one) does not pin its origin.
            if s.origins.count >= 4 * Self.capacity, let oldest = s.origins.keys.min() { s.origins[oldest] = nil }
            s.origins[tag] = origin
            return true
        }
    }

    /// Processing thread: the next command, if any. Lock-free, no allocation.
    public func next() -> ControlRequest? {
        var r = ControlRequest.empty
        let n = withUnsafeMutablePointer(to: &r) {
            requests.read(into: UnsafeMutableBufferPointer(start: $0, count: 1))
        }
        return n == 1 ? r : nil
    }

    /// Processing thread: hands an outcome back. Lock-free, no allocation.
    public func complete(_ outcome: ControlOutcome) {
        var o = outcome
        if !outcomes.write(o) {
            dropped.wrappingIncrement(ordering: .relaxed)
        }
        wake?()
    }

    /// The next outcome and who asked (the output thread, a test).
    public func takeOutcome() -> (ControlOutcome, ControlOrigin)? {
        var o = ControlOutcome.empty
        let n = withUnsafeMutablePointer(to: &o) {
            outcomes.read(into: UnsafeMutableBufferPointer(start: $0, count: 1))
        }
        guard n == 1 else { return nil }
        let origin = senders.withLock { $0.origins.removeValue(forKey: o.request.tag) } ?? .local
        return (o, origin)
    }
}
