import Dispatch
import Glibc

/// A POSIX thread with a name (as `top -H` and `ps -L` show it) running one closure, and a join
/// with a timeout. Foundation's `Thread` is outside FoundationEssentials, which the daemon limits
/// itself to (Foundation and ICU would cost it about 6 MiB of resident memory).
public final class NamedThread: @unchecked Sendable {
    private let name: String
    private let body: @Sendable () -> Void
    private let done = DispatchSemaphore(value: 0)

    public init(name: String, _ body: @escaping @Sendable () -> Void) {
        self.name = name
        self.body = body
    }

    /// Starts the thread (once). Detached: `join(timeout:)` waits on the closure's end.
    public func start() {
        let box = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            let me = Unmanaged<NamedThread>.fromOpaque(raw!).takeRetainedValue()
            me.setName()
            me.body()
            me.done.signal()
            return nil
        }, box)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        pthread_detach(thread)
    }

    /// What pthread_setname_np does for the calling thread (not exported by Swift's Glibc
    /// module): the name goes to /proc/thread-self/comm, 15 bytes at most.
    private func setName() {
        let fd = open("/proc/thread-self/comm", O_WRONLY)
        guard fd >= 0 else { return }
        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    /// Waits for the closure to return; false on timeout.
    public func join(timeout: Double) -> Bool { done.wait(timeout: .now() + timeout) == .success }
}
