import Glibc

/// A POSIX semaphore a producer posts (non-blocking, allocation-free: fine on the capture and
/// processing threads) and a consumer sleeps on with a timeout, instead of polling.
public final class WakeSemaphore: @unchecked Sendable {
    private let semaphore: UnsafeMutablePointer<sem_t>

    public init() {
        semaphore = .allocate(capacity: 1)
        sem_init(semaphore, 0, 0)
    }

    deinit {
        sem_destroy(semaphore)
        semaphore.deallocate()
    }

    /// Producer: wakes the consumer.
    public func post() { sem_post(semaphore) }

    /// Consumer: waits until posted or `timeout` seconds pass.
    public func wait(timeout: Double) {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let ns = Int(ts.tv_nsec) + Int(timeout * 1e9)
        ts.tv_sec += ns / 1_000_000_000
        ts.tv_nsec = ns % 1_000_000_000
        _ = sem_timedwait(semaphore, &ts)
    }
}
