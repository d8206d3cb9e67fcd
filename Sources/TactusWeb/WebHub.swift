import Atomics
import Synchronization
import TactusIO

/// The live pages (WebSocket connections) and the API calls waiting for a command's ack. The
/// output thread pushes into it without ever waiting: a page's connection buffers what the
/// network has not taken yet, and a page with more than its bound unsent (a phone gone to sleep,
/// a stuck tab) is dropped, not waited for.
public final class WebHub: Sendable {
    /// One page's way out: `send` queues a message and says false when the page is stuck (the
    /// hub then drops it); `close` ends the connection.
    public struct Page: Sendable {
        public var send: @Sendable (String) -> Bool
        public var close: @Sendable () -> Void

        public init(send: @escaping @Sendable (String) -> Bool, close: @escaping @Sendable () -> Void) {
            self.send = send
            self.close = close
        }
    }
    public let maxClients: Int
    private struct State {
        var next = 1
        /// Slots taken by pages; a page receives once its connection is attached.
        var clients: [Int: Page?] = [:]
        var waiters: [Int: CheckedContinuation<String?, Never>] = [:]
        /// API calls that expect an ack, and acks that came before their call waited.
        var expecting: Set<Int> = []
        var early: [Int: String] = [:]
    }
    private let state = Mutex(State())
    /// Pages dropped for not keeping up, and pages refused for `maxClients`.
    public let droppedClients = ManagedAtomic<Int>(0)
    public let refusedClients = ManagedAtomic<Int>(0)
    /// Live pages, readable without the lock (the output thread asks on every beat).
    private let live = ManagedAtomic<Int>(0)

    public init(maxClients: Int) { self.maxClients = maxClients }

    public var clientCount: Int { live.load(ordering: .relaxed) }

    /// A slot for a new page (before its connection is upgraded); nil when `maxClients` pages
    /// are live.
    public func reserve() -> Int? {
        let id: Int? = state.withLock { s in
            guard s.clients.count < maxClients else { return nil }
            let id = s.next
            s.next += 1
            s.clients[id] = .some(nil)
            live.store(s.clients.count, ordering: .relaxed)
            return id
        }
        if id == nil { refusedClients.wrappingIncrement(ordering: .relaxed) }
        return id
    }

    /// The page's connection, once it can take messages; false when the slot is gone already.
    @discardableResult
    public func attach(_ id: Int, _ page: Page) -> Bool {
        state.withLock { s in
            guard s.clients[id] != nil else { return false }
            s.clients[id] = page
            return true
        }
    }

    /// Closes every page (shutdown).
    public func closeAll() {
        let all = state.withLock { s in
            defer {
                s.clients.removeAll()
                live.store(0, ordering: .relaxed)
            }
            return s.clients.values.compactMap { $0 }
        }
        for p in all { p.close() }
    }

    public func unregister(_ id: Int) {
        let p = state.withLock { s in
            defer { live.store(s.clients.count, ordering: .relaxed) }
            return s.clients.removeValue(forKey: id)
        }
        p??.close()
    }

    /// Sends `text` to every page (the output thread). A page that is stuck is dropped.
    public func broadcast(_ text: String) {
        let pages = state.withLock { s in s.clients.compactMap { id, p in p.map { (id, $0) } } }
        for (id, p) in pages where !p.send(text) {
            droppedClients.wrappingIncrement(ordering: .relaxed)
            unregister(id)
        }
    }

    /// An ack for one page or one waiting API call.
    public func deliver(_ text: String, to id: Int) {
        let (p, w) = state.withLock { s in
            let w = s.waiters.removeValue(forKey: id)
            if w == nil && s.expecting.contains(id) { s.early[id] = text }
            return (s.clients[id] ?? nil, w)
        }
        if let w { w.resume(returning: text) } else if let p, !p.send(text) {
            droppedClients.wrappingIncrement(ordering: .relaxed)
            unregister(id)
        }
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
