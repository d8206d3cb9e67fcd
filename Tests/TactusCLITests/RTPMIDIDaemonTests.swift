import Foundation
import TactusCore
import TactusIO
import Testing

/// MIDI clock over RTP-MIDI from the daemon to an independent peer: pymidi's server (PyPI,
/// tools/test-requirements.txt) accepts Tactus's invitation and decodes every packet. The clock
/// must start on a beat, tick 24 times per beat at the tempo, evenly, and stop and end the
/// session at shutdown.
@Suite(.enabled(if: RTPMIDIPeer.available,
                "pymidi not found: tools/test.sh installs it in .venv-test (TACTUS_TEST_PYTHON)"))
struct RTPMIDIDaemonTests {
    @Test func clockReachesAnRTPMIDIPeer() throws {
        let workspace = try TestWorkspace("rtpmidi", duration: 12)
        defer { workspace.remove() }
        let (dir, wav) = (workspace.dir, workspace.wav)
        let peer = try RTPMIDIPeer.start(dir: dir)
        let stats = dir.appendingPathComponent("stats.json").path
        let r = try TrackCommandTests.runTactus(
            ["run", "--set", "capture.source=file", "--set", "capture.file=\(wav)",
             "--set", "capture.realtime_priority=0",
             "--set", "output.midi_rtp_peer=127.0.0.1:\(peer.port)", "--duration", "13", "--stats", stats])
        let lines = peer.finish()
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("RTP-MIDI: session with 127.0.0.1:\(peer.port) ('pymidi') established"),
                "\(r.stderr)")
        #expect(r.stdout.contains("\"kind\":\"midi_session\""))
        #expect(lines.first == "connected Tactus", "\(lines.prefix(3))")
        #expect(lines.last == "disconnected", "BY at shutdown: \(lines.suffix(3))")
        // "<arrival s> <status byte>" per message.
        let messages = lines.compactMap { line -> (Double, Int)? in
            let f = line.split(separator: " ")
            guard f.count == 2, let t = Double(f[0]), let b = Int(f[1]) else { return nil }
            return (t, b)
        }
        let starts = messages.filter { $0.1 == 0xFA }
        #expect(starts.count == 1, "one Start: \(messages.filter { $0.1 != 0xF8 }.map(\.1))")
        #expect(messages.last?.1 == 0xFC, "Stop last")
        let ticks = messages.filter { $0.1 == 0xF8 }.map(\.0)
        #expect(ticks.count > 24 * 10, "\(ticks.count) ticks for 10+ beats")
        // Steady state: 120 BPM is a tick every 20.83 ms, within the clock's 2 % per-beat bound.
        let intervals = zip(ticks.dropFirst(), ticks).map { $0 - $1 }.dropFirst(48).sorted()
        try #require(intervals.count > 24, "too few ticks to measure their intervals")
        let median = intervals[intervals.count / 2]
        #expect(abs(median - 0.5 / 24) < 0.0005, "median tick interval \(median * 1000) ms")
        // Loose bounds (other tests share the two cores): no tick late or early by half a tick
        // in nine of ten; bench/outputs.py measures the jitter on a quiet machine.
        let p90 = intervals[Int(Double(intervals.count - 1) * 0.9)]
        #expect(p90 < 1.5 * 0.5 / 24, "p90 tick interval \(p90 * 1000) ms")
        let json = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: stats))) as? [String: Any]
        #expect((json?["midi_rtp_sent"] as? Int ?? 0) == messages.count, "every message sent arrived")
        #expect((json?["midi_lateness_ms_p50"] as? Double ?? 99) < 5, "\(json ?? [:])")
    }
}

/// A pymidi RTP-MIDI server on a free pair of loopback ports, writing one line per event:
/// "connected NAME", "<arrival time> <status byte>", "disconnected".
struct RTPMIDIPeer {
    static var available: Bool {
        guard let python = OSCReceiver.python else { return false }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = ["-c", "import pymidi.server"]
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }

    let process: Process
    let port: Int
    let output: URL

    static let script = """
        import socket, sys, time
        from pymidi import server
        # A free pair of ports: control p, data p + 1.
        while True:
            a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]
            b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                b.bind(("127.0.0.1", p + 1))
            except OSError:
                a.close(); b.close(); continue
            a.close(); b.close(); break
        out = open(sys.argv[1], "w")
        state = {"last": time.time(), "connected": False, "done": False}
        class H(server.Handler):
            def on_peer_connected(self, peer):
                out.write("connected %s\\n" % peer.name); out.flush(); state["connected"] = True
            def on_peer_disconnected(self, peer):
                out.write("disconnected\\n"); out.flush(); state["done"] = True
            def on_midi_commands(self, peer, commands):
                now = time.monotonic()
                for c in commands:
                    out.write("%.6f %d\\n" % (now, c.command_byte))
                out.flush(); state["last"] = time.time()
        s = server.Server([("127.0.0.1", p)])
        s.add_handler(H())
        s._init_protocols()
        print(p, flush=True)
        start = time.time()
        while time.time() - start < 40 and not state["done"]:
            s._loop_once(timeout=0.2)
        """

    static func start(dir: URL) throws -> RTPMIDIPeer {
        let output = dir.appendingPathComponent("rtpmidi.txt")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: OSCReceiver.python!)
        p.arguments = ["-c", script, output.path]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        var line = Data()
        while !line.contains(10) {
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        return RTPMIDIPeer(process: p, port: port, output: output)
    }

    func finish() -> [String] {
        process.waitUntilExit()
        return ((try? String(contentsOf: output, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }
}
