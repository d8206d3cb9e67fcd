/// The last `capacity` values of a measurement (cost per period, latency per event), for the
/// statistics printed at exit. Allocated and touched once at init, then overwritten in place:
/// recording never allocates and never grows the resident memory, however long the daemon runs.
/// One writer thread; read only after that writer has finished.
public final class RecentValues<Value: BitwiseCopyable & Comparable>: @unchecked Sendable {
    private let storage: UnsafeMutableBufferPointer<Value>
    /// Values recorded since the start (may exceed the capacity).
    public private(set) var total = 0

    public init(capacity: Int, filler: Value) {
        storage = .allocate(capacity: max(1, capacity))
        storage.initialize(repeating: filler)
    }

    deinit { storage.deallocate() }

    @inline(__always)
    public func record(_ value: Value) {
        storage[total % storage.count] = value
        total += 1
    }

    /// The kept values (the most recent `capacity`), in no particular order.
    public var values: [Value] { Array(storage[0..<min(total, storage.count)]) }
}
