import FoundationEssentials
import Glibc

/// sd_notify(3) without libsystemd: datagrams to $NOTIFY_SOCKET (READY=1, STATUS=…, WATCHDOG=1,
/// STOPPING=1). Does nothing when not started by systemd.
struct SystemdNotifier {
    private let socketPath: String?
    /// Half the watchdog interval systemd asked for (WATCHDOG_USEC), or nil.
    let watchdogInterval: Double?

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        socketPath = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        if let usec = environment["WATCHDOG_USEC"].flatMap(Double.init), usec > 0 {
            watchdogInterval = usec / 2e6
        } else {
            watchdogInterval = nil
        }
    }

    var isActive: Bool { socketPath != nil }

    func notify(_ state: String) {
        guard let path = socketPath else { return }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }  // abstract namespace
        let length = min(bytes.count, MemoryLayout.size(ofValue: addr.sun_path) - 1)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for i in 0..<length { raw[i] = bytes[i] }
        }
        let addrLength = socklen_t(MemoryLayout<sa_family_t>.size + length)
        let message = Array(state.utf8)
        _ = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                sendto(fd, message, message.count, Int32(MSG_NOSIGNAL), sa, addrLength)
            }
        }
    }
}
