import Atomics
import Synchronization
import TactusIO

/// The live pages (WebSocket clients) and the API calls waiting for a command's ack. The output
/// thread pushes into it without ever waiting: each page has a bounded buffer, and a page that
/// does not keep up (a phone gone to sleep, a stuck tab) is dropped, not waited for.
public final class WebHub: Sendable {
    /// Messages buffered per page before it counts as stuck.
    public static let bufferPerClient = 512
    public let maxClients: Int
    private struct State {
        var next = 1
        var clients: [Int: AsyncStream<String>.Continuation] = [:]
        var waiters: [Int: CheckedContinuation<String?, Never>] = [:]
        /// API calls that expect an ack, and acks that came before their call waited.
        var expecting: Set<Int> = []
        var early: [Int: String] = [:]
    }
    private let state = Mutex(State())
    /// Pages dropped for not keeping up, and pages refused for `maxClients`.
    public let droppedClients = ManagedAtomic<Int>(0)
    public let refusedClients = ManagedAtomic<Int>(0)

    public init(maxClients: Int) { self.maxClients = maxClients }

    public var clientCount: Int { state.withLock { $0.clients.count } }

    /// A new page's id and its message stream; nil when `maxClients` pages are live.
    public func register() -> (id: Int, messages: AsyncStream<String>)? {
        let (stream, continuation) = AsyncStream.makeStream(of: String.self,
                                                            bufferingPolicy: .bufferingOldest(Self.bufferPerClient))
        let id: Int? = state.withLock { s in
            guard s.clients.count < maxClients else { return nil }
            let id = s.next
            s.next += 1
            s.clients[id] = continuation
            return id
        }
        guard let id else {
            refusedClients.wrappingIncrement(ordering: .relaxed)
            continuation.finish()
            return nil
        }
        return (id, stream)
    }

    /// Closes every page (shutdown).
    public func closeAll() {
        let all = state.withLock { s in
            defer { s.clients.removeAll() }
            return Array(s.clients.values)
        }
        for c in all { c.finish() }
    }

    public func unregister(_ id: Int) {
        let c = state.withLock { $0.clients.removeValue(forKey: id) }
        c?.finish()
    }

    /// Sends `text` to every page (the output thread). A page whose buffer is full is dropped.
    public func broadcast(_ text: String) {
        state.withLock { s in
            for (id, c) in s.clients {
                if case .dropped = c.yield(text) {
                    c.finish()
                    s.clients[id] = nil
                    droppedClients.wrappingIncrement(ordering: .relaxed)
                }
            }
        }
    }

    /// An ack for one page or one waiting API call.
    public func deliver(_ text: String, to id: Int) {
        let (c, w) = state.withLock { s in
            let w = s.waiters.removeValue(forKey: id)
            if w == nil && s.expecting.contains(id) { s.early[id] = text }
            return (s.clients[id], w)
        }
        if let w { w.resume(returning: text) } else if let c, case .dropped = c.yield(text) { unregister(id) }
    }

    /// An id for an API call that waits for its command's ack (`wait`); take it before the
    /// command is queued.
    public func newWaiterID() -> Int {
        state.withLock { s in
            defer { s.next += 1 }
            s.expecting.insert(s.next)
            return s.next
        }
    }

    /// Waits up to `timeout` seconds for the ack delivered to `id`; nil on timeout.
    public func wait(for id: Int, timeout: Double) async -> String? {
        await withTaskGroup(of: String?.self) { group in
            group.addTask {
                await withCheckedContinuation { (c: CheckedContinuation<String?, Never>) in
                    let early: String?? = self.state.withLock { s in
                        guard s.expecting.contains(id) else { return .some(nil) }  // timed out already
                        if let text = s.early.removeValue(forKey: id) { return .some(text) }
                        s.waiters[id] = c
                        return .none
                    }
                    if case .some(let text) = early { c.resume(returning: text) }
                }
            }
            group.addTask {
                try? await Task.sleep(nanoseconds: UInt64(timeout * 1e9))
                // Resumes the waiter once, whichever comes first.
                let w = self.state.withLock { s in
                    s.expecting.remove(id)
                    s.early[id] = nil
                    return s.waiters.removeValue(forKey: id)
                }
                w?.resume(returning: nil)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            let result = first != nil ? first : await group.next() ?? nil
            state.withLock { s in
                s.expecting.remove(id)
                s.early[id] = nil
            }
            return result
        }
    }
}
