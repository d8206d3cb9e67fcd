import Synchronization
import Testing
@testable import TactusWeb

/// The hub of live pages: slots bounded by `maxClients`, stuck pages dropped and counted, on a
/// broadcast and on a page's own ack alike.
struct WebHubTests {
    /// A page whose `send` says it is stuck once `stuck` is set; records what it was sent.
    final class FakePage: Sendable {
        let sent = Mutex<[String]>([])
        let closed = Mutex(false)
        let stuck = Mutex(false)
        var page: WebHub.Page {
            WebHub.Page(send: { text in
                guard !self.stuck.withLock({ $0 }) else { return false }
                self.sent.withLock { $0.append(text) }
                return true
            }, close: { self.closed.withLock { $0 = true } })
        }
    }

    @Test func slotsAreBoundedAndRefusalsCounted() throws {
        let hub = WebHub(maxClients: 2)
        let a = try #require(hub.reserve())
        _ = try #require(hub.reserve())
        #expect(hub.reserve() == nil)
        #expect(hub.refusedClients.load(ordering: .relaxed) == 1)
        hub.unregister(a)
        #expect(hub.clientCount == 1)
        #expect(hub.reserve() != nil)
    }

    @Test func aStuckPageIsDroppedAndCountedOnBroadcastAndOnAck() throws {
        let hub = WebHub(maxClients: 4)
        let (p1, p2) = (FakePage(), FakePage())
        let id1 = try #require(hub.reserve()), id2 = try #require(hub.reserve())
        hub.attach(id1, p1.page)
        hub.attach(id2, p2.page)
        hub.broadcast("one")
        p1.stuck.withLock { $0 = true }
        hub.broadcast("two")
        #expect(p1.closed.withLock { $0 })
        #expect(hub.clientCount == 1)
        #expect(hub.droppedClients.load(ordering: .relaxed) == 1)
        hub.deliver("ack", to: id2)
        p2.stuck.withLock { $0 = true }
        hub.deliver("ack again", to: id2)
        #expect(p2.closed.withLock { $0 })
        #expect(hub.clientCount == 0)
        #expect(hub.droppedClients.load(ordering: .relaxed) == 2)
        #expect(p1.sent.withLock { $0 } == ["one"])
        #expect(p2.sent.withLock { $0 } == ["one", "two", "ack"])
    }
}
