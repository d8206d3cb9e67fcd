import Atomics

/// Lock-free single-producer/single-consumer ring of plain values (samples, capture stamps):
/// the hand-off from the capture thread to the processing thread. Capacity is fixed at creation;
/// a write that does not fit is refused whole and counted, so the producer never waits.
///
/// Memory ordering: the producer fills slots, then publishes its new write index with a release
/// store; the consumer reads that index with an acquire load before reading the slots, and hands
/// slots back the same way. Each index has exactly one writer.
public final class SPSCRing<Element: BitwiseCopyable>: @unchecked Sendable {
    public let capacity: Int
    private let mask: Int
    private let storage: UnsafeMutablePointer<Element>
    /// Total elements ever written / read; positions are these modulo the capacity.
    private let writeIndex = UnsafeAtomic<Int>.create(0)
    private let readIndex = UnsafeAtomic<Int>.create(0)
    private let overflowCount = UnsafeAtomic<Int>.create(0)

    /// `capacity` is rounded up to a power of two.
    public init(capacity: Int, filler: Element) {
        var c = 1
        while c < max(capacity, 1) { c <<= 1 }
        self.capacity = c
        mask = c - 1
        storage = .allocate(capacity: c)
        storage.initialize(repeating: filler, count: c)
    }

    deinit {
        storage.deallocate()
        writeIndex.destroy()
        readIndex.destroy()
        overflowCount.destroy()
    }

    /// Elements refused because the ring was full (producer's count).
    public var overflows: Int { overflowCount.load(ordering: .relaxed) }

    /// Elements ready for the consumer.
    public var available: Int {
        writeIndex.load(ordering: .acquiring) - readIndex.load(ordering: .relaxed)
    }

    /// Producer: appends all of `elements`, or none when they do not fit (counted as overflow).
    @discardableResult
    public func write(_ elements: UnsafeBufferPointer<Element>) -> Bool {
        let n = elements.count
        let w = writeIndex.load(ordering: .relaxed)
        let r = readIndex.load(ordering: .acquiring)
        guard capacity - (w - r) >= n else {
            overflowCount.wrappingIncrement(by: n, ordering: .relaxed)
            return false
        }
        let start = w & mask
        let first = min(n, capacity - start)
        (storage + start).update(from: elements.baseAddress!, count: first)
        if n > first { storage.update(from: elements.baseAddress! + first, count: n - first) }
        writeIndex.store(w + n, ordering: .releasing)
        return true
    }

    /// Producer: appends one element (false when the ring is full, counted as overflow). By
    /// assignment, not a byte copy: a single value on the stack has `size` bytes, which can be
    /// fewer than the `stride` a buffer copy reads (ASan found a 13-byte FrameSample read as 16).
    @discardableResult
    public func write(_ element: Element) -> Bool {
        let w = writeIndex.load(ordering: .relaxed)
        let r = readIndex.load(ordering: .acquiring)
        guard capacity - (w - r) >= 1 else {
            overflowCount.wrappingIncrement(ordering: .relaxed)
            return false
        }
        storage[w & mask] = element
        writeIndex.store(w + 1, ordering: .releasing)
        return true
    }

    /// Consumer: copies up to `destination.count` elements out; returns how many.
    public func read(into destination: UnsafeMutableBufferPointer<Element>) -> Int {
        let r = readIndex.load(ordering: .relaxed)
        let w = writeIndex.load(ordering: .acquiring)
        let n = min(w - r, destination.count)
        guard n > 0 else { return 0 }
        let start = r & mask
        let first = min(n, capacity - start)
        destination.baseAddress!.update(from: storage + start, count: first)
        if n > first { (destination.baseAddress! + first).update(from: storage, count: n - first) }
        readIndex.store(r + n, ordering: .releasing)
        return n
    }
}
