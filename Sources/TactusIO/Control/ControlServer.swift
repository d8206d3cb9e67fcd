import Atomics
import Glibc
import TactusCore

/// The control thread (issue 20; docs/control.md): reads operator commands from OSC over UDP
/// (`control.listen`) and from the JSON-line socket, checks who sent them (`control.allow`) and
/// how often (`control.max_rate` per input), decodes them (untrusted bytes: bounded, never a
/// trap) and queues them for the processing thread, stamped with their arrival. Garbage gets an
/// error ack where the sender can be answered, a counter, and a log line at most once a second.
public final class ControlServer: @unchecked Sendable {
    public let inbox: ControlInbox
    /// The OSC socket (-1: none).
    private let udp: Int32
    public let listenAddress: String
    private let socket: LineSocketServer?
    private let filter: AddressFilter
    private var oscBucket: TokenBucket
    private var socketBucket: TokenBucket
    /// Log lines (at most one a second for refused input).
    public var report: (String) -> Void = { _ in }
    /// Commands that could not be read, from sources not allowed, over the rate, or not queued.
    public let unreadable = UnsafeAtomic<Int>.create(0)
    public let refusedSources = UnsafeAtomic<Int>.create(0)
    public let rateLimited = UnsafeAtomic<Int>.create(0)
    /// Largest OSC datagram read; longer ones are refused.
    public static let maxDatagram = 4096
    private var buffer = [UInt8](repeating: 0, count: 65_536)
    private var pendingReport: (count: Int, last: String) = (0, "")
    private var lastReport: Int64 = -1_000_000_000_000

    /// `listen`: "host:port" with a numeric host, or empty for no OSC input; `socket`: the
    /// JSON-line socket, when it takes commands. Throws when the address cannot be bound.
    public init(listen: String, allow: AddressFilter, maxRate: Double, socket: LineSocketServer?,
                inbox: ControlInbox) throws(OutputError) {
        self.inbox = inbox
        listenAddress = listen
        filter = allow
        oscBucket = TokenBucket(rate: maxRate)
        socketBucket = TokenBucket(rate: maxRate)
        self.socket = socket
        socket?.takesCommands = true
        guard !listen.isEmpty else { udp = -1; return }
        let address = try SocketAddress(listen, numericOnly: true)
        let fd = Glibc.socket(address.family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
                              | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            throw OutputError("control.listen \(listen): socket: \(String(cString: strerror(errno)))")
        }
        var a = address.storage
        let rc = withUnsafePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, address.length) }
        }
        guard rc == 0 else {
            let why = String(cString: strerror(errno))
            close(fd)
            throw OutputError("control.listen \(listen): cannot bind: \(why)")
        }
        udp = fd
    }

    deinit {
        if udp >= 0 { close(udp) }
        unreadable.destroy(); refusedSources.destroy(); rateLimited.destroy()
    }

    /// The UDP port bound (a listen address with port 0 gets one from the system); 0 when none.
    public var boundPort: Int {
        guard udp >= 0 else { return 0 }
        var a = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(udp, $0, &length) }
        }
        return withUnsafeBytes(of: &a) { Int($0[2]) << 8 | Int($0[3]) }
    }

    /// Until `stop` is set: waits up to 100 ms for input, then reads it.
    public func run(stop: UnsafeAtomic<Bool>) {
        while !stop.load(ordering: .relaxed) {
            var fds = ((udp >= 0 ? [udp] : []) + (socket?.descriptors() ?? [])).map {
                pollfd(fd: $0, events: Int16(POLLIN), revents: 0)
            }
            if fds.isEmpty { return }
            let ready = poll(&fds, nfds_t(fds.count), 100)
            let now = MonotonicClock.nanos()
            if ready > 0 {
                if udp >= 0 && fds[0].revents != 0 { readDatagrams(now: now) }
                if socket != nil && fds.dropFirst(udp >= 0 ? 1 : 0).contains(where: { $0.revents != 0 }) {
                    readSocket(now: now)
                }
            }
            flushReport(now: now)
        }
    }

    /// Sends an ack to an OSC sender (the output thread, once the command was applied).
    public func replyOSC(_ packet: OSCPacket, to address: SocketAddress) {
        guard udp >= 0 else { return }
        let bytes = packet.encoded()
        var a = address.storage
        _ = withUnsafePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(udp, bytes, bytes.count, Int32(MSG_DONTWAIT) | Int32(MSG_NOSIGNAL), $0, address.length)
            }
        }
    }

    // MARK: OSC

    private func readDatagrams(now: Int64) {
        var results: [Result<ControlCommand, ControlParseError>] = []
        for _ in 0..<64 {
            var from = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let n = buffer.withUnsafeMutableBytes { b in
                withUnsafeMutablePointer(to: &from) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        recvfrom(udp, b.baseAddress, b.count, Int32(MSG_DONTWAIT) | Int32(MSG_TRUNC), $0, &length)
                    }
                }
            }
            guard n >= 0 else { return }
            let sender = SocketAddress(storage: from, length: length)
            guard filter.allows(sender.addressBytes) else {
                refusedSources.wrappingIncrement(ordering: .relaxed)
                refuse("OSC from \(sender.description), a source not in control.allow", now: now)
                continue
            }
            guard oscBucket.take(now: now) else {
                rateLimited.wrappingIncrement(ordering: .relaxed)
                refuse("OSC from \(sender.description) over control.max_rate", now: now)
                continue
            }
            guard n <= Self.maxDatagram, let packet = OSCPacket.decode(Array(buffer[0..<n])) else {
                let why = n > Self.maxDatagram
                    ? "a datagram of \(n) bytes (at most \(Self.maxDatagram))" : "not an OSC packet"
                fail(why, from: sender, now: now)
                continue
            }
            results.removeAll(keepingCapacity: true)
            ControlWire.decode(osc: packet, into: &results)
            for r in results.prefix(16) {
                switch r {
                case .success(let command):
                    if !inbox.submit(command, hostNanos: now, origin: .osc(sender)) {
                        fail("the command queue is full", from: sender, now: now)
                    }
                case .failure(let error):
                    fail(error.message, from: sender, now: now)
                }
            }
        }
    }

    private func fail(_ why: String, from sender: SocketAddress, now: Int64) {
        unreadable.wrappingIncrement(ordering: .relaxed)
        refuse("OSC from \(sender.description): \(why)", now: now)
        replyOSC(ControlWire.oscAck(command: "", result: "error", detail: why), to: sender)
    }

    // MARK: The JSON-line socket

    private func readSocket(now: Int64) {
        guard let socket else { return }
        var answers: [(Int, String)] = []
        socket.readLines { client, line in
            guard let line else {
                unreadable.wrappingIncrement(ordering: .relaxed)
                answers.append((client, "command line longer than \(LineSocketServer.maxLineBytes) bytes"))
                return
            }
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return }
            guard socketBucket.take(now: now) else {
                rateLimited.wrappingIncrement(ordering: .relaxed)
                refuse("socket client \(client) over control.max_rate", now: now)
                return
            }
            switch ControlWire.decode(jsonLine: line) {
            case .success(let d):
                if !inbox.submit(d.command, hostNanos: now, origin: .socket(client: client, id: d.id)) {
                    answers.append((client, "the command queue is full"))
                }
            case .failure(let error):
                unreadable.wrappingIncrement(ordering: .relaxed)
                answers.append((client, error.message))
            }
        }
        for (client, why) in answers {
            refuse("socket client \(client): \(why)", now: now)
            socket.write("{\"v\":1,\"event\":\"ack\",\"result\":\"error\",\"message\":\(JSONString.quoted(why))}\n",
                         toClient: client)
        }
    }

    // MARK: Reports

    /// Logs the first refusal at once, later ones summed up at most once a second.
    private func refuse(_ what: String, now: Int64) {
        pendingReport.count += 1
        pendingReport.last = what
        flushReport(now: now)
    }

    private func flushReport(now: Int64) {
        guard pendingReport.count > 0, now - lastReport >= 1_000_000_000 else { return }
        let n = pendingReport.count
        report(n == 1 ? "control: refused \(pendingReport.last)"
                      : "control: refused \(n) commands in the last second (last: \(pendingReport.last))")
        pendingReport = (0, "")
        lastReport = now
    }
}

/// Commands allowed per second from one input: a bucket of `rate` tokens, refilled continuously.
struct TokenBucket {
    let rate: Double
    private var tokens: Double
    private var last: Int64 = 0

    init(rate: Double) {
        self.rate = rate
        tokens = rate
    }

    mutating func take(now: Int64) -> Bool {
        if last != 0 { tokens = min(rate, tokens + Double(now - last) / 1e9 * rate) }
        last = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
