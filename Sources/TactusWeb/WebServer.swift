import Atomics
import Dispatch
import Glibc
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import TactusCore
import TactusIO

/// What the daemon lends the web server: its state as JSON and as metrics, and its command queue.
public struct WebEndpoints: Sendable {
    /// The /api/status object (JSON).
    public var status: @Sendable () -> String
    /// The /metrics text (Prometheus exposition format).
    public var metrics: @Sendable () -> String
    /// Queues a command for the processing thread; false when the queue is full.
    public var submit: @Sendable (ControlCommand, Int64, ControlOrigin) -> Bool

    public init(status: @escaping @Sendable () -> String, metrics: @escaping @Sendable () -> String,
                submit: @escaping @Sendable (ControlCommand, Int64, ControlOrigin) -> Bool) {
        self.status = status; self.metrics = metrics; self.submit = submit
    }
}

/// The daemon's HTTP server (issue 21; docs/web.md), on SwiftNIO through Hummingbird 2, off the
/// audio path: `GET /` the embedded page, `GET /ws` its live transport (WebSocket: beats at once,
/// activations at `web.update_rate`, status 4 times a second, commands back), `GET /metrics`, `GET
/// /api/status`, `POST /api/control`. Nothing else is served (no file system). With a token,
/// everything but the page needs it. Requests are bounded: 64 headers in 16 KiB, bodies of
/// 1 KiB, 64 connections, WebSocket frames of 1 KiB in, idle connections closed after 30 s.
public final class WebServer: @unchecked Sendable {
    public static let maxBody = 1024
    public static let maxConnections = 64
    let config: WebConfig
    let hub: WebHub
    let endpoints: WebEndpoints
    let logger: Logger
    private var group: ServiceGroup?
    private let port = ManagedAtomic<Int>(0)
    private let done = DispatchSemaphore(value: 0)
    /// One event loop serves everything: a few pages and scrapes, and the pages' updates run on
    /// the thread that owns their connections.
    private var loops: MultiThreadedEventLoopGroup?
    private let updates: WebUpdates

    /// `frames` is the processing thread's feed of activations for the pages.
    public init(config: WebConfig, hub: WebHub, endpoints: WebEndpoints, frames: SPSCRing<FrameSample>,
                logger: Logger) {
        self.config = config
        self.hub = hub
        self.endpoints = endpoints
        updates = WebUpdates(hub: hub, frames: frames, status: endpoints.status, updateRate: config.updateRate)
        var quiet = logger
        quiet.logLevel = .warning  // Hummingbird logs a line per request at info
        self.logger = quiet
    }

    /// Starts serving; returns the port bound, or throws when the address cannot be bound
    /// (within 5 s).
    public func start() throws(OutputError) -> Int {
        let (host, requested) = try Self.hostPort(config.listen)
        let failure = ManagedAtomic<Bool>(false)
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.loops = loops
        let app = Application(
            router: makeRouter(),
            server: .http1WebSocketUpgrade(configuration: channelConfiguration(), shouldUpgrade: upgrade),
            configuration: ApplicationConfiguration(
                address: .hostname(host, port: Int(requested)), serverName: "tactus",
                availableConnectionsDelegate: MaximumAvailableConnections(Self.maxConnections)),
            onServerRunning: { [port] channel in port.store(channel.localAddress?.port ?? -1, ordering: .releasing) },
            eventLoopGroupProvider: .shared(loops),
            logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        self.group = group
        Task { [done] in
            defer { done.signal() }
            do { try await group.run() } catch { failure.store(true, ordering: .releasing) }
        }
        let deadline = DispatchTime.now() + 5
        while port.load(ordering: .acquiring) == 0 && !failure.load(ordering: .acquiring)
              && DispatchTime.now() < deadline {
            usleep(2000)
        }
        let p = port.load(ordering: .acquiring)
        guard p > 0 else {
            stop()
            throw OutputError("web.listen \(config.listen): cannot serve (the address is in use or cannot be bound)")
        }
        updates.start(on: loops.next())
        return p
    }

    /// Stops serving (shutdown): open pages are closed; waits up to 2 s.
    public func stop() {
        guard let group, let loops else { return }
        self.group = nil
        self.loops = nil
        updates.stop(on: loops.next())
        hub.closeAll()
        Task { await group.triggerGracefulShutdown() }
        if done.wait(timeout: .now() + 2) == .timedOut { logger.warning("web: the server did not stop within 2 s") }
        loops.shutdownGracefully { _ in }
    }

    static func hostPort(_ text: String) throws(OutputError) -> (String, UInt16) {
        do { return try HostPort.parse(text, key: "web.listen", anyPort: true) } catch {
            throw OutputError("\(error)")
        }
    }

    private func channelConfiguration() -> HTTP1WebSocketUpgradeChannel.Configuration {
        var http1 = HTTP1Channel.Configuration(idleTimeout: .seconds(30))
        http1.httpDecoder = .init(maxHeaderFieldSize: 8192, maxHeaderListSize: 16_384, maxHeaderFieldCount: 64)
        return .init(http1: http1, ws: .init(maxFrameSize: 1024))
    }

    // MARK: Authorisation

    /// Whether the request carries the token (none configured: every request does), as
    /// `Authorization: Bearer TOKEN` or `?token=TOKEN` (the WebSocket, which cannot set headers).
    func authorised(_ request: HTTPRequest) -> Bool {
        guard !config.token.isEmpty else { return true }
        if let header = request.headerFields[.authorization], header.hasPrefix("Bearer "),
           Self.sameSecret(String(header.dropFirst(7)), config.token) {
            return true
        }
        let query = request.path.flatMap { $0.split(separator: "?", maxSplits: 1).dropFirst().first } ?? ""
        for pair in query.split(separator: "&") where pair.hasPrefix("token=") {
            if Self.sameSecret(Self.percentDecoded(pair.dropFirst(6)), config.token) { return true }
        }
        return false
    }

    /// A query value with %XX escapes decoded (invalid escapes kept as they are).
    static func percentDecoded(_ text: Substring) -> String {
        var out: [UInt8] = []
        var bytes = Array(text.utf8)[...]
        while let b = bytes.popFirst() {
            if b == UInt8(ascii: "%"), bytes.count >= 2,
               let v = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16) {
                out.append(v)
                bytes = bytes.dropFirst(2)
            } else {
                out.append(b == UInt8(ascii: "+") ? UInt8(ascii: " ") : b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Compares in time independent of where the strings differ.
    static func sameSecret(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var diff = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) {
            diff |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
        }
        return diff == 0
    }

    // MARK: Routes

    private func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                     body: .init(byteBuffer: ByteBuffer(string: WebPage.html)))
        }
        router.get("/metrics") { [self] request, _ in
            guard authorised(request.head) else { return Self.unauthorised }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: endpoints.metrics())))
        }
        router.get("/api/status") { [self] request, _ in
            guard authorised(request.head) else { return Self.unauthorised }
            return Self.json(.ok, endpoints.status())
        }
        router.post("/api/control") { [self] request, _ in
            guard authorised(request.head) else { return Self.unauthorised }
            let body: ByteBuffer
            do { body = try await request.body.collect(upTo: Self.maxBody) } catch {
                return Self.json(.contentTooLarge, Self.error("request body over \(Self.maxBody) bytes"))
            }
            return await control(Array(buffer: body))
        }
        // A WebSocket request the upgrade refused (no token, too many pages) ends here.
        router.get("/ws") { [self] request, _ in
            guard authorised(request.head) else { return Self.unauthorised }
            return Self.json(.serviceUnavailable, Self.error("at most \(hub.maxClients) live pages (web.max_clients)"))
        }
        return router
    }

    static let unauthorised = json(.unauthorized, error("this needs web.token: Authorization: Bearer TOKEN"))

    static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func error(_ message: String) -> String {
        "{\"v\":1,\"event\":\"ack\",\"result\":\"error\",\"message\":\(JSONString.quoted(message))}"
    }

    /// POST /api/control: the socket's JSON command; answered with its ack once applied.
    private func control(_ body: [UInt8]) async -> Response {
        switch ControlWire.decode(jsonLine: body[...]) {
        case .failure(let e):
            return Self.json(.badRequest, Self.error(e.message))
        case .success(let d):
            let waiter = hub.newWaiterID()
            guard endpoints.submit(d.command, MonotonicClock.nanos(), .web(client: waiter, id: d.id)) else {
                return Self.json(.serviceUnavailable, Self.error("the command queue is full"))
            }
            guard let ack = await hub.wait(for: waiter, timeout: 2) else {
                return Self.json(.gatewayTimeout, Self.error("no answer from the processing thread within 2 s"))
            }
            return Self.json(ack.contains("\"result\":\"rejected\"") ? .unprocessableContent : .ok, ack)
        }
    }

    // MARK: The live page

    private func upgrade(
        _ request: HTTPRequest, _ channel: any Channel, _ logger: Logger
    ) -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>> {
        guard request.path?.hasPrefix("/ws") == true, authorised(request), let id = hub.reserve() else {
            return .dontUpgrade
        }
        // The slot is freed however the connection ends, upgraded or not.
        channel.closeFuture.whenComplete { [hub] _ in hub.unregister(id) }
        return .upgrade([:]) { [hub, endpoints] inbound, _, _ in
            defer { hub.unregister(id) }
            // The output thread writes frames straight into the upgraded channel (one hand-off to
            // its event loop, no task in between: the page's CPU cost is mostly this path).
            hub.attach(id, try await Self.page(channel))
            // Commands from the page (taps: the lowest latency path), as JSON lines.
            for try await message in inbound.messages(maxSize: ControlWire.maxLineBytes) {
                guard case .text(let text) = message else { continue }
                switch ControlWire.decode(jsonLine: Array(text.utf8)[...]) {
                case .success(let d):
                    if !endpoints.submit(d.command, MonotonicClock.nanos(), .web(client: id, id: d.id)) {
                        hub.deliver(Self.error("the command queue is full"), to: id)
                    }
                case .failure(let e):
                    hub.deliver(Self.error(e.message), to: id)
                }
            }
        }
    }

    /// Bytes a page may leave unsent before it counts as stuck and is dropped.
    public static let maxUnsentBytes = 64 * 1024

    /// A page's way out over its upgraded channel: whole text frames written at the head of the
    /// pipeline, next to the socket (the frame is encoded here, in one buffer: the page's updates
    /// are most of the server's work). `isWritable` turns false once more than `maxUnsentBytes`
    /// wait for the network (the channel's high water mark).
    static func page(_ channel: any Channel) async throws -> WebHub.Page {
        let head = HeadWriter()
        try await channel.pipeline.addHandler(head, position: .first).get()
        let loop = channel.eventLoop
        return WebHub.Page(
            send: { text in
                guard channel.isActive, channel.isWritable else { return false }
                if loop.inEventLoop { head.write(text) } else { loop.execute { head.write(text) } }
                return true
            },
            close: { channel.close(promise: nil) })
    }

    /// Writes pre-encoded WebSocket text frames from the first position of the pipeline.
    final class HeadWriter: ChannelOutboundHandler, @unchecked Sendable {  // used on its channel's loop only
        typealias OutboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        private var context: ChannelHandlerContext?

        func handlerAdded(context: ChannelHandlerContext) { self.context = context }
        func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

        func write(_ text: String) {
            guard let context else { return }
            context.writeAndFlush(NIOAny(Self.frame(text, allocator: context.channel.allocator)), promise: nil)
        }

        /// A final, unmasked text frame (RFC 6455 5.2: a server never masks).
        static func frame(_ text: String, allocator: ByteBufferAllocator) -> ByteBuffer {
            let n = text.utf8.count
            var b = allocator.buffer(capacity: n + 10)
            b.writeInteger(UInt8(0x81))
            if n < 126 {
                b.writeInteger(UInt8(n))
            } else if n < 65536 {
                b.writeInteger(UInt8(126))
                b.writeInteger(UInt16(n))
            } else {
                b.writeInteger(UInt8(127))
                b.writeInteger(UInt64(n))
            }
            b.writeString(text)
            return b
        }
    }
}
