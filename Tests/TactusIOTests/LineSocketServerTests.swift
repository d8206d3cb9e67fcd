import Foundation
import Glibc
import Testing
@testable import TactusIO

/// Issue 18, items 2 and 14: `output.jsonl_socket` removes only a stale socket, refuses a live
/// one and anything else by name, removes only its own socket at exit, and sets its mode.
@Suite struct LineSocketServerTests {
    let dir: String

    init() throws {
        // Short: a UNIX socket path has at most 107 bytes.
        dir = "/tmp/tls-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: dir) }

    func kind(_ path: String) -> mode_t {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & S_IFMT : 0
    }

    /// A connected client socket, or -1.
    func connectClient(_ path: String) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if rc != 0 { close(fd); return -1 }
        return fd
    }

    @Test func aRegularFileIsNeitherRemovedNorReplaced() throws {
        defer { remove() }
        let path = dir + "/events.sock"
        try "precious\n".write(toFile: path, atomically: false, encoding: .utf8)
        let error = #expect(throws: OutputError.self) { _ = try LineSocketServer(path: path) }
        #expect(error?.message.contains("is a regular file") == true)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "precious\n")
    }

    @Test func aDirectoryIsRefused() throws {
        defer { remove() }
        #expect(throws: OutputError.self) { _ = try LineSocketServer(path: dir) }
        #expect(kind(dir) == S_IFDIR)
    }

    @Test func aLiveSocketIsNotTakenOver() throws {
        defer { remove() }
        let path = dir + "/live.sock"
        let first = try LineSocketServer(path: path)
        let client = connectClient(path)
        #expect(client >= 0)
        defer { close(client) }
        let error = #expect(throws: OutputError.self) { _ = try LineSocketServer(path: path) }
        #expect(error?.message.contains("another process is serving") == true)
        // The first server still serves its client.
        first.write("{\"event\":\"beat\"}\n")
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = recv(client, &buffer, buffer.count, 0)
        #expect(n == 17)
        #expect(kind(path) == S_IFSOCK)
    }

    @Test func aStaleSocketIsReplaced() throws {
        defer { remove() }
        let path = dir + "/stale.sock"
        // A socket bound and never listened on: connecting is refused, as after a crash.
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        _ = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        close(fd)
        #expect(kind(path) == S_IFSOCK)
        let server = try LineSocketServer(path: path)
        let client = connectClient(path)
        #expect(client >= 0)
        close(client)
        _ = server
    }

    @Test func theModeIsSetWhateverTheUmask() throws {
        defer { remove() }
        let path = dir + "/mode.sock"
        let old = umask(0o077)
        defer { umask(old) }
        let server = try LineSocketServer(path: path, mode: 0o660)
        var info = stat()
        lstat(path, &info)
        #expect(info.st_mode & 0o777 == 0o660)
        _ = server
    }

    @Test func onlyItsOwnSocketIsRemovedAtExit() throws {
        defer { remove() }
        let path = dir + "/own.sock"
        var server: LineSocketServer? = try LineSocketServer(path: path)
        // Someone replaced the socket with a file while we ran: it is theirs now.
        unlink(path)
        try "someone else's\n".write(toFile: path, atomically: false, encoding: .utf8)
        server = nil
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "someone else's\n")
        var again: LineSocketServer? = try LineSocketServer(path: dir + "/own2.sock")
        again = nil
        _ = (server, again)
        #expect(kind(dir + "/own2.sock") == 0)
    }

    @Test func whatClientsSendIsReadAndDiscarded() throws {
        defer { remove() }
        let path = dir + "/chatty.sock"
        let server = try LineSocketServer(path: path)
        let client = connectClient(path)
        defer { close(client) }
        server.write("")
        let junk = [UInt8](repeating: 0x7B, count: 10_000)
        _ = junk.withUnsafeBytes { send(client, $0.baseAddress, $0.count, 0) }
        server.write("{\"event\":\"beat\"}\n")
        #expect(server.ignoredBytes == 10_000)
        #expect(server.clientCount == 1)
    }
}
