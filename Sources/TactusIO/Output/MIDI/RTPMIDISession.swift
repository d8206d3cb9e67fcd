import Glibc

/// Network MIDI: an AppleMIDI/RTP-MIDI session (RFC 6295) that Tactus initiates with one peer
/// (rtpmidid, macOS Network MIDI, a DAW). Two non-blocking UDP sockets on consecutive local
/// ports, like the peer's (control, data = control + 1). Invites on the control port, then on
/// the data port, re-inviting every second until accepted and again after the peer ends the
/// session; answers and starts clock synchronisation (CK); then sends one RTP-MIDI packet per
/// message. Driven by `service(nowNanos:)` from the MIDI thread: it never blocks.
public final class RTPMIDISession: @unchecked Sendable {
    public enum State: Equatable, Sendable { case invitingControl, invitingData, connected }

    public let peer: String
    public let name: String
    public private(set) var state = State.invitingControl
    public private(set) var sent = 0
    public private(set) var errors = 0
    /// The peer's session name, once it accepted.
    public private(set) var peerName = ""
    private let control: Int32
    private let data: Int32
    private let ssrc: UInt32
    private var token: UInt32
    private var sequence: UInt16
    private let startNanos: Int64
    private var lastInvite: Int64 = 0
    private var lastSync: Int64 = 0
    private var buffer = [UInt8](repeating: 0, count: 1500)
    /// Called on state changes (on the MIDI thread): logged once per change.
    public var report: (String) -> Void = { _ in }

    /// `peer`: "host:port" of the peer's control port (its data port is the next one).
    public init(peer: String, name: String = "Tactus", localPort: UInt16 = 0) throws(OutputError) {
        self.peer = peer
        self.name = name
        var seed = UInt64(bitPattern: MonotonicClock.nanos()) &* 0x9E37_79B9_7F4A_7C15
        seed ^= UInt64(getpid())
        ssrc = UInt32(truncatingIfNeeded: seed >> 32)
        token = UInt32(truncatingIfNeeded: seed)
        sequence = UInt16(truncatingIfNeeded: seed >> 16)
        startNanos = MonotonicClock.nanos()
        let controlAddress = try SocketAddress(peer)
        let dataAddress = try SocketAddress(peer, portOffset: 1)
        (control, data) = try Self.bindPair(family: controlAddress.family, localPort: localPort, peer: peer)
        for (fd, address) in [(control, controlAddress), (data, dataAddress)] where address.connect(fd) != 0 {
            let why = String(cString: strerror(errno))
            Glibc.close(control); Glibc.close(data)
            throw OutputError("\(peer): connect: \(why)")
        }
    }

    deinit { Glibc.close(control); Glibc.close(data) }

    /// Two sockets on consecutive local ports (a few attempts with ephemeral ports).
    private static func bindPair(family: Int32, localPort: UInt16, peer: String) throws(OutputError) -> (Int32, Int32) {
        func socketBound(_ port: UInt16) -> Int32? {
            let fd = socket(
                family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { return nil }
            var rc: Int32
            if family == AF_INET6 {
                var a = sockaddr_in6()
                a.sin6_family = sa_family_t(AF_INET6)
                a.sin6_port = port.bigEndian
                rc = withUnsafePointer(to: &a) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                    }
                }
            } else {
                var a = sockaddr_in()
                a.sin_family = sa_family_t(AF_INET)
                a.sin_port = port.bigEndian
                rc = withUnsafePointer(to: &a) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
            if rc != 0 { Glibc.close(fd); return nil }
            return fd
        }
        func port(of fd: Int32) -> UInt16 {
            var a = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            _ = withUnsafeMutablePointer(to: &a) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            return withUnsafeBytes(of: &a) { raw in UInt16(raw[2]) << 8 | UInt16(raw[3]) }
        }
        for _ in 0..<16 {
            guard let c = socketBound(localPort) else { break }
            let p = port(of: c)
            if p < 65535, let d = socketBound(p + 1) { return (c, d) }
            Glibc.close(c)
            if localPort != 0 { break }
        }
        throw OutputError("\(peer): cannot bind two consecutive UDP ports\(localPort != 0 ? " at \(localPort)" : "")")
    }

    /// RTP timestamp and CK times: 100 µs units since the session started.
    private func ticks(_ nanos: Int64) -> UInt64 { UInt64(max(0, nanos - startNanos) / 100_000) }

    private func send(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        let n = bytes.withUnsafeBytes {
            Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
        }
        if n == bytes.count { return true }
        errors += 1
        return false
    }

    /// Reads what arrived, answers it, and (re)invites or synchronises when due.
    public func service(nowNanos now: Int64) {
        for fd in [control, data] {
            while true {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                if n <= 0 { break }
                handle(Array(buffer[0..<n]), on: fd, now: now)
            }
        }
        switch state {
        case .invitingControl, .invitingData:
            if now - lastInvite >= 1_000_000_000 {
                lastInvite = now
                let fd = state == .invitingControl ? control : data
                _ = send(fd, AppleMIDIPacket.invitation(token: token, ssrc: ssrc, name: name).encoded)
            }
        case .connected:
            if now - lastSync >= 10_000_000_000 {
                lastSync = now
                _ = send(data, AppleMIDIPacket.sync(ssrc: ssrc, count: 0, timestamps: [ticks(now), 0, 0]).encoded)
            }
        }
    }

    private func handle(_ bytes: [UInt8], on fd: Int32, now: Int64) {
        guard let packet = AppleMIDIPacket.decode(bytes) else { return }  // RTP from the peer: not needed
        switch packet {
        case .accepted(let t, _, let peerName) where t == token:
            if state == .invitingControl && fd == control {
                state = .invitingData
                lastInvite = 0
                self.peerName = peerName
            } else if state == .invitingData && fd == data {
                state = .connected
                lastSync = 0
                report("RTP-MIDI: session with \(peer) ('\(peerName)') established")
            }
        case .rejected(let t, _) where t == token:
            report("RTP-MIDI: \(peer) rejected the invitation; retrying every second")
        case .end:
            if state == .connected { report("RTP-MIDI: \(peer) ended the session; inviting again") }
            state = .invitingControl
            token &+= 1
            lastInvite = 0
        case .invitation(let t, _, _):
            // A peer that invites us back (both sides initiating): accept.
            _ = send(fd, AppleMIDIPacket.accepted(token: t, ssrc: ssrc, name: name).encoded)
        case .sync(_, let count, let ts) where fd == data:
            if count == 0 {
                _ = send(data, AppleMIDIPacket.sync(ssrc: ssrc, count: 1, timestamps: [ts[0], ticks(now), 0]).encoded)
            } else if count == 1 {
                _ = send(data,
                         AppleMIDIPacket.sync(ssrc: ssrc, count: 2, timestamps: [ts[0], ts[1], ticks(now)]).encoded)
            }
        default:
            break
        }
    }

    /// Sends one MIDI message now (dropped and counted unless the session is up).
    @discardableResult
    public func send(_ message: [UInt8], nowNanos: Int64) -> Bool {
        guard state == .connected else { return false }
        sequence &+= 1
        let packet = RTPMIDIPacket.encode(message, sequence: sequence,
                                          timestamp: UInt32(truncatingIfNeeded: ticks(nowNanos)), ssrc: ssrc)
        let ok = send(data, packet)
        if ok { sent += 1 }
        return ok
    }

    /// Ends the session (BY on both ports).
    public func close() {
        guard state != .invitingControl else { return }
        let by = AppleMIDIPacket.end(token: token, ssrc: ssrc).encoded
        _ = send(control, by)
        _ = send(data, by)
        state = .invitingControl
    }
}
