import Dispatch
import Glibc
import Synchronization

/// A datagram socket to one OSC target (IPv4 or IPv6, unicast or multicast). Non-blocking: a
/// full socket buffer or an unreachable, refusing or slow target costs a counted error, never a
/// wait, and never touches the other targets.
public final class UDPSender: @unchecked Sendable {
    public let target: String
    private var fd: Int32 = -1
    private var address: SocketAddress?
    private let ttl: Int
    private let interface: String
    /// A host name that did not resolve at start: resolved again on a thread of its own, with
    /// back-off, and picked up by `send` (a lighting desk often boots after the tracker).
    private var resolver: HostResolver?
    /// Why the target cannot be sent to while its name does not resolve.
    public private(set) var unresolvedReason: String?
    public private(set) var sent = 0
    public private(set) var errors = 0
    /// errno of the last failed send (0 once a send succeeds again): state changes are logged.
    public private(set) var lastError: Int32 = 0
    /// Faults injected at the socket (tests): indexed by send attempt.
    public var faults = FaultPlan.none
    private var attempts = 0

    /// `target`: "host:port", "[v6addr]:port"; multicast groups get `ttl` hops on `interface`
    /// (an interface name, empty for the default).
    public init(target: String, ttl: Int = 1, interface: String = "") throws(OutputError) {
        self.target = target
        self.ttl = ttl
        self.interface = interface
        do {
            try open(try SocketAddress(target))
        } catch where error.unresolved {
            unresolvedReason = error.message
            lastError = Self.unresolvedError
            resolver = HostResolver(target: target)
        }
    }

    /// lastError while the name does not resolve (not an errno).
    public static let unresolvedError: Int32 = -1

    /// What the last failure was, in words.
    public var failureReason: String {
        lastError == Self.unresolvedError
            ? (unresolvedReason ?? "cannot resolve") : String(cString: strerror(lastError))
    }

    private func open(_ address: SocketAddress) throws(OutputError) {
        self.address = address
        let family = address.family
        fd = socket(family,
                    Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw OutputError("\(target): socket: \(String(cString: strerror(errno)))") }
        // Connected, so that the kernel reports a refusing target (ICMP port unreachable) as
        // ECONNREFUSED on later sends instead of dropping it silently. A target without a route
        // yet (the network comes up after the daemon at boot, a blackhole or unreachable route)
        // is not a configuration error: the sender retries the connect once a second.
        if !connectNow() {
            guard Self.routingErrors.contains(lastError) else {
                let why = String(cString: strerror(lastError))
                close(fd)
                fd = -1
                throw OutputError("\(target): connect: \(why)")
            }
        }
        var hops = Int32(ttl)
        var index = interface.isEmpty ? 0 : Int32(if_nametoindex(interface))
        if family == AF_INET {
            var ttl8 = UInt8(clamping: ttl)
            setsockopt(fd, Int32(IPPROTO_IP), IP_MULTICAST_TTL, &ttl8, 1)
            if index > 0 {
                var req = ip_mreqn()
                req.imr_ifindex = index
                setsockopt(fd, Int32(IPPROTO_IP), IP_MULTICAST_IF, &req, socklen_t(MemoryLayout<ip_mreqn>.size))
            }
        } else {
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_MULTICAST_HOPS, &hops, 4)
            if index > 0 { setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_MULTICAST_IF, &index, 4) }
        }
    }

    deinit {
        if fd >= 0 { close(fd) }
        resolver?.stop()
    }

    /// connect() failures that a later network change can cure.
    static let routingErrors: Set<Int32> = [ENETUNREACH, EHOSTUNREACH, EINVAL, EACCES, EPERM, EADDRNOTAVAIL, ENETDOWN]
    private var connected = false
    private var lastConnectAttempt: Int64 = 0

    private func connectNow() -> Bool {
        lastConnectAttempt = MonotonicClock.nanos()
        connected = address?.connect(fd) == 0
        if !connected { lastError = errno }
        return connected
    }

    /// Sends one datagram; returns false (and counts) when it could not leave now.
    @discardableResult
    public func send(_ bytes: [UInt8]) -> Bool {
        let injected = faults.isEmpty ? nil : faults.fault(at: attempts)
        attempts += 1
        if fd < 0 {
            // The name had not resolved: take the resolver's answer once there is one.
            guard let resolved = resolver?.take(), (try? open(resolved)) != nil else {
                errors += 1
                return false
            }
            resolver = nil
            unresolvedReason = nil
            lastError = 0
        }
        if !connected {
            // Still no route: try again at most once a second, never wait.
            if MonotonicClock.nanos() - lastConnectAttempt < 1_000_000_000 || !connectNow() {
                errors += 1
                return false
            }
        }
        let n = injected.map { code -> Int in errno = code; return -1 } ?? bytes.withUnsafeBytes { raw in
            Glibc.send(fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
        }
        if n == bytes.count {
            sent += 1
            lastError = 0
            return true
        }
        errors += 1
        lastError = errno
        return false
    }
}

public struct OutputError: Error, Equatable, CustomStringConvertible {
    public let message: String
    /// A host name that did not resolve (now): worth trying again later.
    public let unresolved: Bool
    public init(_ message: String, unresolved: Bool = false) {
        self.message = message
        self.unresolved = unresolved
    }
    public var description: String { message }
}

/// Resolves one host name on a thread of its own, again and again with back-off (1 s doubling
/// to 60 s) until it resolves or is stopped: getaddrinfo can block for seconds, which the output
/// thread must never do.
final class HostResolver: @unchecked Sendable {
    private let result = Mutex<SocketAddress?>(nil)
    private let stopped = Mutex(false)
    private let wake = DispatchSemaphore(value: 0)

    init(target: String) {
        NamedThread(name: "tactus-resolve") { [self] in
            var wait = 1.0
            while !stopped.withLock({ $0 }) {
                _ = wake.wait(timeout: .now() + wait)
                if stopped.withLock({ $0 }) { return }
                if let address = try? SocketAddress(target) {
                    result.withLock { $0 = address }
                    return
                }
                wait = min(60, wait * 2)
            }
        }.start()
    }

    /// The address, once resolved (then nil again).
    func take() -> SocketAddress? { result.withLock { r in defer { r = nil }; return r } }

    func stop() {
        stopped.withLock { $0 = true }
        wake.signal()
    }
}
