import Foundation
import TactusCore
import TactusIO
import Testing

/// Fault injection on the daemon (debug builds read TACTUS_FAULTS_CAPTURE / TACTUS_FAULTS_OSC):
/// errors at the ALSA boundary and at the OSC sockets, a broken configuration on reload, SIGTERM
/// mid-stream. The daemon survives each, keeps its stream clock consistent, and reports each in
/// its log and in JSON-line notices.
extension DaemonTests {
    /// The capture's reads (10 ms periods, ALSA `file` PCM): a short read, an overrun, a suspend,
    /// an I/O error and a vanished device, then SIGTERM while the stream runs.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/alsa/alsa.conf"),
                   "libasound's configuration is missing"))
    func captureFaultsAreSurvivedAndReported() throws {
        try writeRawInput()
        try #require(try TestWorkspace.installTestAsoundrc(in: dir), "../shared/tools/alsa-test.asoundrc not found")
        let r = try run(["--set", "capture.device=fromfile", "--set", "capture.ring_seconds=30",
                         "--set", "capture.retry_max=0.25"],
                        environment: [
                            "HOME": dir.path,
                            "TACTUS_FAULTS_CAPTURE": "short@50-52,EPIPE@150,ESTRPIPE@250,EIO@400,ENODEV@700"],
                        signalAfter: (4, SIGTERM), directory: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("capture overrun (xrun); restarted"), "\(r.stderr)")
        #expect(r.stderr.contains("capture device suspended; resuming"))
        #expect(r.stderr.contains("capture device lost: Input/output error; reopening"))
        #expect(r.stderr.contains("capture device lost: No such device; reopening"))
        #expect(r.stderr.components(separatedBy: "capture open at 44100 Hz").count - 1 == 3, "opened, reopened twice")
        #expect(r.notices("xrun").count == 1)
        #expect(r.notices("device_suspended").count == 1)
        #expect(r.notices("device_lost").map { $0["error"] as? String } == ["Input/output error", "No such device"])
        #expect(r.notices("device_open").count == 3)
        #expect(r.notices("stopping").first?["reason"] as? String == "signal", "SIGTERM mid-stream: a clean stop")
        // The stream clock: notices and beats in order on it, beats strictly increasing, numbered
        // without a hole; the beats before the first fault are file mode's.
        let times = r.notices.compactMap { $0["time"] as? Double }
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 <= $1 }, "notices in order on the stream clock: \(times)")
        #expect(zip(r.beats, r.beats.dropFirst()).allSatisfy { $0 < $1 })
        #expect(r.beatLines.compactMap { $0["seq"] as? Int }
                == Array(1...max(r.beatLines.count, 1)).prefix(r.beatLines.count).map { $0 })
        let file = try fileModeBeats()
        expectSameBeats(Array(r.beats.prefix { $0 < 0.45 }), file.filter { $0 < 0.45 })
        #expect(r.beats.count > file.count, "beats went on after the faults (the file PCM restarts its file on reopen)")
        // (No check of dropped periods: after its file the `file` PCM delivers silence as fast as
        // it is read, more than any ring holds; the paced sources are checked elsewhere.)
    }

    /// OSC sends fail (no route, no buffer space, refused) for a while: beats keep flowing to the
    /// JSON lines without a hole, the target is reported failing once and recovering once per
    /// spell, and no send stalls the events (the capture-to-event latency is measured in bench/).
    @Test(.enabled(if: OSCReceiver.python != nil,
                   "python-osc not found: tools/test.sh installs it (TACTUS_TEST_PYTHON)"))
    func oscSendErrorsNeverStallTheBeats() throws {
        let receiver = try OSCReceiver.start(dir: dir)
        let r = try run(["--set", "capture.source=file", "--set", "capture.file=\(dir.path)/in.wav", "--speed", "4",
                         "--set", "output.osc_targets=127.0.0.1:\(receiver.port)"],
                        environment: ["TACTUS_FAULTS_OSC": "EHOSTUNREACH@2-4,ENOBUFS@8-9,ECONNREFUSED@12"])
        let received = receiver.finish()
        #expect(r.status == 0, "\(r.stderr)")
        let beats = r.beatLines
        #expect(beats.count > 15)
        #expect(beats.compactMap { $0["seq"] as? Int } == Array(1...beats.count), "no beat lost on the JSON lines")
        // Six sends failed: a beat is one bundle (predicted) or a beat and a tempo message.
        let counts = received.compactMap { Int($0.split(separator: " ")[0]) }
        #expect(counts.count < beats.count && counts.count >= beats.count - 6,
                "\(counts.count) OSC beats for \(beats.count) JSON beats")
        #expect(counts.last == beats.last?["count"] as? Int, "the beats after the failures arrive")
        #expect(r.notices("output_error").map { $0["error"] as? String }
                == ["No route to host", "No buffer space available", "Connection refused"])
        // Recovered only after 5 s without a failure (a refusing port alternates): at most once.
        #expect(r.notices("output_recovered").count <= 1)
        #expect(r.stderr.contains("No route to host; beats to it are dropped until it recovers"))
        let p99 = (try JSONSerialization.jsonObject(
            with: Data(r.stats.utf8)) as? [String: Any])?["latency_ms_p99"] as? Double
        // A stall bound, not a speed test: a send that blocked through a failure spell would hold
        // events for hundreds of ms. (5 ms held in plain builds; ThreadSanitizer on a loaded
        // machine gave 12.7 ms.)
        #expect((p99 ?? 999) < 50, "capture-to-event latency p99 \(p99 ?? -1) ms")
    }

    /// A reload with a broken file (bad TOML, then a value out of range) keeps the running
    /// configuration and says so in the log and the JSON lines.
    @Test func brokenConfigurationOnReloadIsRejected() throws {
        let config = dir.appendingPathComponent("reload.toml")
        // The onset fallback: its first beats come within the second this test runs, also in
        // sanitizer builds (as in the other daemon tests that look for beats).
        let good = "[model]\npath = \"\"\n[capture]\nsource = \"file\"\nfile = \"\(dir.path)/in.wav\"\n"
            + "loop = true\nrealtime_priority = 0\n"
        try good.write(to: config, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = TrackCommandTests.binary
        p.arguments = ["run", "--config", config.path]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Each step waits for the daemon's log line (LogWaiter), not a fixed time.
        let log = LogWaiter(err, process: p)
        log.waitFor("running:")
        let started = Date()
        try (good + "[emission\nlead = 0.05\n").write(to: config, atomically: true, encoding: .utf8)
        kill(p.processIdentifier, SIGHUP)
        log.waitFor("reload rejected")
        try (good + "[emission]\nlead = \"soon\"\n").write(to: config, atomically: true, encoding: .utf8)
        kill(p.processIdentifier, SIGHUP)
        log.waitFor("reload rejected", count: 2)
        // At least 2 s of running, for the beats that show it went on.
        Thread.sleep(forTimeInterval: max(0, 2 - Date().timeIntervalSince(started)))
        kill(p.processIdentifier, SIGTERM)
        let o = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let e = log.finish()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let rejected = o.split(separator: "\n")
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["kind"] as? String == "reload_rejected" }.compactMap { $0["message"] as? String }
        #expect(rejected.count == 2, "\(o.suffix(600))")
        #expect(rejected.first?.contains("\(config.path):8") == true, "\(rejected)")
        #expect(rejected.last?.contains("emission.lead") == true, "\(rejected)")
        #expect(e.components(separatedBy: "reload rejected, keeping the running configuration").count - 1 == 2)
        #expect(o.contains("\"event\":\"beat\""), "beats went on")
    }
}

/// A network that is not up yet when the daemon starts (at boot), simulated with a private
/// network namespace whose loopback is down: OSC targets have no route. The daemon starts,
/// says so once, and keeps its JSON lines flowing.
@Suite(.enabled(if: UnshareSupport.works, "needs `unshare -n` (root, util-linux)"))
struct NoNetworkAtStartTests {
    @Test func oscTargetsWithoutARouteDoNotStopTheDaemon() throws {
        let workspace = try TestWorkspace("nonet", duration: 6)
        defer { workspace.remove() }
        let wav = workspace.wav
        let r = try TrackCommandTests.runTactus(
            ["run", "--set", "capture.source=file", "--set", "capture.file=\(wav)",
             "--set", "capture.realtime_priority=0", "--set", "output.osc_targets=127.0.0.1:9000,10.1.2.3:9000",
             "--speed", "4"], wrapper: ["/usr/bin/unshare", "-n"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("OSC 127.0.0.1:9000: no route yet (Network is unreachable)"), "\(r.stderr)")
        #expect(r.stderr.contains("OSC 10.1.2.3:9000: no route yet"))
        #expect(r.stdout.components(separatedBy: "\"event\":\"beat\"").count - 1 > 5, "beats on stdout")
    }
}

enum UnshareSupport {
    static let works: Bool = {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") else { return false }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        p.arguments = ["-n", "true"]
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }()
}
