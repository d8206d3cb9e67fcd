import Foundation
import TactusIO
import Testing

/// Issue 21 over real sockets: the page, /metrics, /api/status and /api/control of `tactus run`,
/// the token, bounded requests and hostile clients. (The page itself in a real browser:
/// tools/web-test.py.)
@Suite struct WebDaemonTests {
    typealias Daemon = DaemonProcess

    func start(_ ws: TestWorkspace, speed: Double = 1, duration: Double = 60, extra: [String] = []) throws -> Daemon {
        var d = try DaemonProcess.start(ws, ["--set", "control.listen=", "--set", "web.listen=127.0.0.1:0",
                                             "--speed", "\(speed)", "--duration", "\(duration)"] + extra)
        d.port = d.log.text.firstMatch(of: /on http:\/\/127\.0\.0\.1:(\d+)\//).flatMap { Int($0.1) } ?? 0
        return d
    }

    /// One HTTP/1.1 exchange on a new connection: status and body ("" and 0 when the server
    /// closed without an answer).
    static func http(_ port: Int, _ request: String, timeout: Int = 5) -> (status: Int, body: String) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard ok == 0 else { return (0, "") }
        let bytes = Array(request.utf8)
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var data = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { break }
            data += buf[0..<n]
            let text = String(decoding: data, as: UTF8.self)
            if let headerEnd = text.range(of: "\r\n\r\n"),
               let length = text[..<headerEnd.lowerBound].firstMatch(of: /(?i)content-length: (\d+)/)
                   .flatMap({ Int($0.1) }),
               text.utf8.count - text[..<headerEnd.upperBound].utf8.count >= length {
                break
            }
        }
        let text = String(decoding: data, as: UTF8.self)
        let status = text.firstMatch(of: /^HTTP\/1\.1 (\d{3})/).flatMap { Int($0.1) } ?? 0
        let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        return (status, body)
    }

    static func get(_ port: Int, _ path: String, token: String? = nil) -> (status: Int, body: String) {
        http(port, "GET \(path) HTTP/1.1\r\nHost: x\r\n" + (token.map { "Authorization: Bearer \($0)\r\n" } ?? "")
             + "Connection: close\r\n\r\n")
    }

    static func post(_ port: Int, _ path: String, _ body: String) -> (status: Int, body: String) {
        http(port, "POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n"
                   + "Connection: close\r\n\r\n\(body)")
    }

    /// Every sample line of a Prometheus text exposition: name, labels and value.
    static func samples(_ text: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let m = line.firstMatch(of: /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? ([-+0-9.eEInfNa]+)$/),
                  let v = Double(m.3) else {
                Issue.record("not an exposition line: \(line)")
                continue
            }
            out[String(m.1) + String(m.2 ?? "")] = v
        }
        return out
    }

    @Test func pageMetricsStatusAndControl() throws {
        let ws = try TestWorkspace("web", tempo: 140, duration: 20)
        defer { ws.remove() }
        let d = try start(ws, speed: 2)
        #expect(d.port > 0, "\(d.log.text)")
        let page = Self.get(d.port, "/")
        #expect(page.status == 200 && page.body.contains("<canvas id=\"chart\""))
        Thread.sleep(forTimeInterval: 2)
        let first = Self.samples(Self.get(d.port, "/metrics").body)
        Thread.sleep(forTimeInterval: 1.5)
        let metrics = Self.get(d.port, "/metrics")
        #expect(metrics.status == 200)
        let second = Self.samples(metrics.body)
        #expect((second["tactus_beats_total"] ?? 0) > (first["tactus_beats_total"] ?? 0),
                "beats grow: \(first) → \(second)")
        #expect(second["tactus_build_info{version=\"0.21.0\",model=\"builtin\"}"] == 1)
        #expect(abs((second["tactus_tempo_bpm"] ?? 0) - 140) < 5)
        let status = Self.get(d.port, "/api/status")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(status.body.utf8)) as? [String: Any])
        #expect(json["model"] as? String == "builtin"
                && (json["output_errors_by_sink"] as? [String: Any])?["stdout"] as? Int == 0)
        let half = Self.post(d.port, "/api/control", #"{"cmd":"half","id":"h1"}"#)
        #expect(half.status == 200 && half.body.contains("\"result\":\"applied\"")
                && half.body.contains("\"id\":\"h1\""), "\(half)")
        let rejected = Self.post(d.port, "/api/control", #"{"cmd":"meter","n":0}"#)
        #expect(rejected.status == 422)
        #expect(Self.post(d.port, "/api/control", "nonsense").status == 400)
        #expect(Self.post(d.port, "/api/control", String(repeating: "x", count: 3000)).status == 413)
        #expect(Self.get(d.port, "/etc/passwd").status == 404, "nothing but the page and the endpoints")
        let (lines, _) = d.finish()
        let after = lines.filter { $0["event"] as? String == "beat" && ($0["time"] as? Double ?? 0) > 14 }
        #expect(!after.isEmpty && after.allSatisfy { abs(($0["tempo"] as? Double ?? 0) - 70) < 3 },
                "the page's half halved it")
    }

    @Test func theTokenGuardsAllButThePage() throws {
        let ws = try TestWorkspace("webtoken", duration: 8)
        defer { ws.remove() }
        let d = try start(ws, duration: 3, extra: ["--set", "web.token=s3cret"])
        #expect(Self.get(d.port, "/").status == 200, "the page asks for the token itself")
        #expect(Self.get(d.port, "/api/status").status == 401)
        #expect(Self.get(d.port, "/metrics").status == 401)
        #expect(Self.get(d.port, "/metrics", token: "wrong").status == 401)
        #expect(Self.get(d.port, "/metrics", token: "s3cret").status == 200)
        #expect(Self.post(d.port, "/api/control", #"{"cmd":"tap"}"#).status == 401)
        #expect(Self.get(d.port, "/api/status?token=s3cret").status == 200)
        _ = d.finish()
        // Not loopback without a token: refused before anything starts, by run and check-config alike.
        let run = try TrackCommandTests().run(["run", "--set", "web.listen=0.0.0.0:7780", "--duration", "1"])
        #expect(run.status == 2 && run.stderr.contains("web.token"), "\(run.stderr)")
        let file = ws.dir.appendingPathComponent("lan.toml").path
        try "[web]\nlisten = \"0.0.0.0:7780\"\n".write(toFile: file, atomically: false, encoding: .utf8)
        let check = try TrackCommandTests().run(["check-config", file])
        #expect(check.status != 0 && check.stderr.contains("web.token"))
    }

    /// Hostile clients: 100 idle connections, garbage instead of HTTP, a header flood, a
    /// WebSocket upgrade followed by garbage. The beats go on without a gap; the server answers
    /// the next honest request.
    @Test func hostileClientsDoNotDelayTheBeats() throws {
        let ws = try TestWorkspace("webhostile", tempo: 120, duration: 16)
        defer { ws.remove() }
        let d = try start(ws)
        var idle: [Int32] = []
        for _ in 0..<100 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(UInt16(d.port).bigEndian)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            _ = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            idle.append(fd)
        }
        defer { for fd in idle { close(fd) } }
        _ = Self.http(d.port, String(repeating: "\u{1}\u{2}garbage\r\n", count: 500), timeout: 1)
        let flood = "GET / HTTP/1.1\r\n"
            + (0..<200).map { "X-\($0): \(String(repeating: "y", count: 100))\r\n" }.joined() + "\r\n"
        let flooded = Self.http(d.port, flood, timeout: 1)
        #expect(flooded.status != 200, "200 headers of 100 bytes are refused: \(flooded.status)")
        let upgrade = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            + String(repeating: "\u{FF}\u{00}junk", count: 300)
        _ = Self.http(d.port, upgrade, timeout: 1)
        Thread.sleep(forTimeInterval: 1)
        for fd in idle { close(fd) }
        idle.removeAll()
        #expect(Self.get(d.port, "/api/status").status == 200, "honest requests are still served")
        let (lines, stderr) = d.finish()
        let beats = lines.filter { $0["event"] as? String == "beat" }.compactMap { $0["time"] as? Double }
            .filter { $0 > 3 }
        #expect(beats.count > 10, "\(stderr)")
        let gaps = zip(beats.dropFirst(), beats).map { $0 - $1 }
        #expect(gaps.allSatisfy { $0 < 0.75 }, "largest gap \(gaps.max() ?? 0) s")
    }

    /// web.listen = "": no server and no thread of its own (NIO's event loops are named NIO-…).
    @Test func offMeansNoThread() throws {
        let ws = try TestWorkspace("weboff", duration: 6)
        defer { ws.remove() }
        func threads(_ extra: [String]) throws -> [String] {
            let d = try start(ws, duration: 2, extra: extra)
            let dir = "/proc/\(d.process.processIdentifier)/task"
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir))?.compactMap {
                try? String(contentsOfFile: "\(dir)/\($0)/comm", encoding: .utf8)
            } ?? []
            _ = d.finish()
            return names
        }
        let on = try threads([])
        let off = try threads(["--set", "web.listen="])
        #expect(on.contains { $0.hasPrefix("NIO-") }, "\(on)")
        #expect(!off.contains { $0.hasPrefix("NIO-") }, "\(off)")
    }
}
