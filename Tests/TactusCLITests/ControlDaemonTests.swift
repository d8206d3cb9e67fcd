import Foundation
import TactusCore
import TactusIO
import Testing

/// Issue 20 end to end: `tactus run` on the paced file source takes commands over OSC and its
/// JSON-line socket, answers them, changes the beats it sends, and survives garbage and floods.
@Suite struct ControlDaemonTests {
    typealias Daemon = DaemonProcess

    /// Starts the daemon on `workspace`'s file at `speed` × real time; returns once it runs, with
    /// the OSC port it bound.
    func start(_ workspace: TestWorkspace, speed: Double, duration: Double, extra: [String] = []) throws -> Daemon {
        let socket = workspace.dir.appendingPathComponent("s.sock").path
        var d = try DaemonProcess.start(workspace, ["--set", "output.jsonl_socket=\(socket)",
                                                    "--set", "control.listen=127.0.0.1:0", "--speed", "\(speed)",
                                                    "--duration", "\(duration)"] + extra)
        d.port = d.log.text.firstMatch(of: /OSC on 127\.0\.0\.1:(\d+)/).flatMap { Int($0.1) } ?? 0
        d.socket = socket
        return d
    }

    func ctl(_ args: [String]) throws -> TrackCommandTests.Output { try TrackCommandTests().run(["ctl"] + args) }

    func beats(_ lines: [[String: Any]]) -> [(time: Double, tempo: Double)] {
        lines.filter { $0["event"] as? String == "beat" }.compactMap { l in
            (l["time"] as? Double).flatMap { t in (l["tempo"] as? Double).map { (t, $0) } }
        }
    }

    /// `/tactus/half` over OSC in the middle of a 140 BPM groove: the beats after it are at 70 BPM
    /// and stay there; the command is acked to its sender and reported as a notice.
    @Test func halfOverOSCHalvesTheTempo() throws {
        let ws = try TestWorkspace("ctl-half", tempo: 140, duration: 24)
        defer { ws.remove() }
        let d = try start(ws, speed: 4, duration: 60)
        #expect(d.port > 0, "\(d.log.text)")
        Thread.sleep(forTimeInterval: 2.5)  // about 10 s into the music
        let r = try ctl(["--osc", "127.0.0.1:\(d.port)", "half"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("half applied"), "\(r.stdout)")
        let (lines, stderr) = d.finish()
        let notice = try #require(lines.first { $0["kind"] as? String == "control" }, "\(stderr)")
        #expect(notice["result"] as? String == "applied")
        #expect((notice["source"] as? String)?.hasPrefix("osc 127.0.0.1:") == true)
        let at = try #require(notice["time"] as? Double)
        let b = beats(lines)
        let before = b.filter { $0.time > 5 && $0.time < at - 0.5 }, after = b.filter { $0.time > at + 1.5 }
        #expect(!before.isEmpty && before.allSatisfy { abs($0.tempo - 140) < 4 }, "\(before)")
        #expect(after.count > 8, "\(after.count) beats after the command")
        #expect(after.allSatisfy { abs($0.tempo - 70) < 2 }, "no jump back to 140: \(after)")
        #expect(stderr.contains("control: half applied: tempo"))
    }

    /// JSON commands on the socket through `tactus ctl`: acks, exit statuses, and a nudge that
    /// moves the beats by what it says.
    @Test func socketCommandsAreAckedAndNudgeMovesTheBeats() throws {
        let ws = try TestWorkspace("ctl-sock", tempo: 120, duration: 24)
        defer { ws.remove() }
        let d = try start(ws, speed: 4, duration: 60)
        Thread.sleep(forTimeInterval: 2.5)
        let nudge = try ctl(["--socket", d.socket, "nudge", "20"])
        #expect(nudge.status == 0 && nudge.stdout.contains("nudge 20 applied"), "\(nudge.stdout) \(nudge.stderr)")
        let rejected = try ctl(["--socket", d.socket, "range", "300", "400"])
        #expect(rejected.status == 1 && rejected.stdout.contains("rejected: tempo outside the configured"),
                "\(rejected.stdout)")
        let negative = try ctl(["--socket", d.socket, "nudge", "-5"])
        #expect(negative.status == 0, "a negative argument is an argument: \(negative.stderr)")
        let usage = try ctl(["--socket", d.socket, "jump"])
        #expect(usage.status == 2 && usage.stderr.contains("unknown command 'jump'"))
        let (lines, _) = d.finish()
        let controls = lines.filter { $0["kind"] as? String == "control" }
        #expect(controls.map { $0["command"] as? String } == ["nudge 20", "range 300 400", "nudge -5"])
        // Beats against the groove's grid (a beat every 0.5 s from its first): 20 ms later after
        // the first nudge, 15 ms after the second.
        let first = try #require(controls.first?["time"] as? Double)
        let second = try #require(controls.last?["time"] as? Double)
        let grid = ExampleSignal(tempo: 120, duration: 24).beats
        func offset(_ range: ClosedRange<Double>) -> Double {
            let d = beats(lines).map(\.time).filter { range.contains($0) }.map { t in
                grid.map { t - $0 }.min { abs($0) < abs($1) }!
            }.sorted()
            return d.isEmpty ? .nan : d[d.count / 2]
        }
        let shift = offset((second + 1)...23) - offset(6...(first - 0.2))
        #expect(abs(shift - 0.015) < 0.004, "beats moved by \(shift * 1000) ms")
    }

    /// Garbage, oversized and flooding input on both control inputs: counted, logged at most once
    /// a second, answered where it can be, and the beats go on without a gap.
    @Test func garbageAndFloodsDoNotStallTheBeats() throws {
        let ws = try TestWorkspace("ctl-flood", tempo: 120, duration: 16)
        defer { ws.remove() }
        let d = try start(ws, speed: 2, duration: 60)
        let (fd, send) = Self.udpSender(port: d.port)
        defer { close(fd) }
        let client = try ControlClient.connectUnix(d.socket)
        defer { close(client) }
        let started = Date()
        var rng = SystemRandomNumberGenerator()
        var n = 0
        while Date().timeIntervalSince(started) < 3 {
            for _ in 0..<200 {
                let size = n % 50 == 0 ? 9000 : Int.random(in: 0...64, using: &rng)
                send((0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) })
                n += 1
            }
            send(ControlWire.osc(.tap).encoded())
            let junk = Array("{\"cmd\":\"nudge\",\"ms\":\"x\"}\n".utf8) + [UInt8](repeating: 0x41, count: 3000)
                + [0x0A] + Array("not json\n".utf8)
            _ = junk.withUnsafeBytes {
                Glibc.send(client, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT) | Int32(MSG_NOSIGNAL))
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        let (lines, stderr) = d.finish()
        let b = beats(lines).map(\.time).filter { $0 > 3 }
        #expect(b.count > 20, "\(b.count) beats; \(stderr)")
        let gaps = zip(b.dropFirst(), b).map { $0 - $1 }
        #expect(gaps.allSatisfy { $0 < 0.75 }, "no beat missing: largest gap \(gaps.max() ?? 0) s")
        let refusals = stderr.components(separatedBy: "control: refused").count - 1
        #expect(refusals >= 2 && refusals <= 12, "\(refusals) refusal lines: at most one a second")
        #expect(stderr.contains("a datagram of 9000 bytes (at most 4096)"), "the first refusal is logged at once")
    }

    @Test func ctlSaysWhenNoDaemonListens() throws {
        let r = try ctl(["--socket", "/nonexistent/events.sock", "tap"])
        #expect(r.status == 3 && r.stderr.contains("cannot connect"))
        let keys = try ctl(["--socket", "/nonexistent/events.sock", "half", "--keys"])
        #expect(keys.status == 2 && keys.stderr.contains("--keys goes with tap only"))
    }

    /// File mode replays the operator's buttons at their times (the bench's one-button fixes).
    @Test func trackAppliesTimedCommands() throws {
        let ws = try TestWorkspace("ctl-track", tempo: 140, duration: 20)
        defer { ws.remove() }
        let r = try TrackCommandTests().run(["track", ws.wav, "--format", "jsonl", "--control", "8:half",
                                             "--control", "8.1:downbeat"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let after = lines.filter { ($0["time"] as? Double ?? 0) > 10 }
        #expect(after.allSatisfy { abs(($0["tempo"] as? Double ?? 0) - 70) < 2 })
        #expect(after.allSatisfy { $0["bar_source"] as? String == "operator" })
        let bad = try TrackCommandTests().run(["track", ws.wav, "--control", "half"])
        #expect(bad.status != 0 && bad.stderr.contains("SECONDS:COMMAND"))
    }

    static func udpSender(port: Int) -> (Int32, ([UInt8]) -> Void) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        _ = try? SocketAddress("127.0.0.1:\(port)", numericOnly: true).connect(fd)
        return (fd, { bytes in _ = Glibc.send(fd, bytes, bytes.count, Int32(MSG_DONTWAIT)) })
    }
}
