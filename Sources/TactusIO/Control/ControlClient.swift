import FoundationEssentials
import Glibc
import TactusCore

/// The sending side of the control path (`tactus ctl`): commands to a running daemon over its
/// JSON-line socket or over OSC, each answered by an ack. The connection stays open between
/// commands (a tap button sends many).
public final class ControlClient {
    /// The daemon's answer to one command.
    public struct Ack: Sendable, Equatable {
        /// applied, pending, rejected or error.
        public var result: String
        public var message: String
        public var ok: Bool { result == "applied" || result == "pending" }
    }

    private let fd: Int32
    private let osc: SocketAddress?
    private var lines = LineAssembler(maxLineBytes: 1 << 20)
    private var buffer = [UInt8](repeating: 0, count: 65_536)
    private var sent = 0
    public let destination: String

    /// Connects to the daemon's socket (`output.jsonl_socket`).
    public init(socketPath: String) throws(OutputError) {
        destination = socketPath
        fd = try Self.connectUnix(socketPath)
        osc = nil
    }

    /// Sends to the daemon's OSC control port (`control.listen`), "host:port".
    public init(oscTarget: String) throws(OutputError) {
        destination = oscTarget
        let address = try SocketAddress(oscTarget)
        let s = socket(address.family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { throw OutputError("\(oscTarget): socket: \(String(cString: strerror(errno)))") }
        // Connected: only the daemon's acks come back to us.
        guard address.connect(s) == 0 else {
            let why = String(cString: strerror(errno))
            close(s)
            throw OutputError("\(oscTarget): \(why)")
        }
        fd = s
        osc = address
    }

    deinit { close(fd) }

    /// A connected UNIX stream socket to `path`.
    public static func connectUnix(_ path: String) throws(OutputError) -> Int32 {
        let addr = try UnixSocketAddress(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw OutputError("\(path): socket: \(String(cString: strerror(errno)))") }
        let ok = addr.withSockaddr { connect(fd, $0, $1) }
        guard ok == 0 else {
            let why = String(cString: strerror(errno))
            close(fd)
            throw OutputError("\(path): cannot connect: \(why)")
        }
        return fd
    }

    /// Sends `command` and waits up to `timeout` s for its ack; nil when none came.
    public func send(_ command: ControlCommand, timeout: Double = 2) throws(OutputError) -> Ack? {
        sent += 1
        let id = "ctl-\(getpid())-\(sent)"
        let bytes = osc != nil ? ControlWire.osc(command).encoded() : Array(ControlWire.jsonLine(command, id: id).utf8)
        let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard n == bytes.count else {
            throw OutputError("\(destination): cannot send: \(String(cString: strerror(errno)))")
        }
        let deadline = MonotonicClock.nanos() + Int64(timeout * 1e9)
        while MonotonicClock.nanos() < deadline {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let wait = Int32(max(1, (deadline - MonotonicClock.nanos()) / 1_000_000))
            guard poll(&p, 1, wait) > 0 else { continue }
            let got = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if got == 0 { throw OutputError("\(destination): the daemon closed the connection") }
            guard got > 0 else {
                if errno == EINTR { continue }
                throw OutputError("\(destination): \(String(cString: strerror(errno)))")
            }
            if osc != nil {
                if let ack = Self.oscAck(Array(buffer[0..<got])) { return ack }
                continue
            }
            var found: Ack?
            lines.feed(buffer[0..<got]) { line in
                if found == nil { found = Self.jsonAck(line, id: id) }
            }
            if let found { return found }
        }
        return nil
    }

    private struct JSONAck: Decodable {
        var event: String?
        var result: String?
        var message: String?
        var id: String?
    }

    /// The ack for request `id` (or an error ack without an id: a line the daemon could not read).
    static func jsonAck(_ line: ArraySlice<UInt8>, id: String) -> Ack? {
        guard let a = try? JSONDecoder().decode(JSONAck.self, from: Data(line)), a.event == "ack",
              let result = a.result, a.id == id || (a.id == nil && result == "error") else { return nil }
        return Ack(result: result, message: a.message ?? "")
    }

    static func oscAck(_ bytes: [UInt8]) -> Ack? {
        guard case .message("/tactus/ack", let args)? = OSCPacket.decode(bytes), args.count == 3,
              case .string(let result) = args[1], case .string(let message) = args[2] else { return nil }
        return Ack(result: result, message: message)
    }
}
