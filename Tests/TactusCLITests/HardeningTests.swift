import Foundation
import Glibc
import TactusCore
import TactusIO
import Testing

/// Issue 18: what a careless or hostile user could break, as the user meets it (the binary).
@Suite struct HardeningTests {
    let dir: URL
    var path: String { dir.path }

    init() throws {
        dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("tactus-hard-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: dir) }

    func kind(_ path: String) -> mode_t {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & S_IFMT : 0
    }

    /// Runs tactus with stdout sent to `stdoutPath` (a device) and stderr collected.
    func run(_ args: [String], stdoutTo stdoutPath: String) throws -> (status: Int32, stderr: String) {
        let p = Process()
        p.executableURL = TrackCommandTests.binary
        p.arguments = args
        p.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
        let err = Pipe()
        p.standardError = err
        try p.run()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: e, as: UTF8.self))
    }

    // MARK: item 3: write errors

    @Test func beatsToAFullDiskAreAnError() throws {
        let r = try run(["track", "--example"], stdoutTo: "/dev/full")
        #expect(r.status != 0)
        #expect(r.stderr.contains("stdout: cannot write: No space left on device"), "\(r.stderr)")
    }

    @Test func anOutputDirOnAFullDiskIsAnError() throws {
        defer { remove() }
        let ws = try TestWorkspace("full", duration: 6)
        defer { ws.remove() }
        // /dev/full as the output file, through a symlink inside the output directory.
        symlink("/dev/full", path + "/in.beats.txt")
        let r = try TrackCommandTests().run(["track", ws.wav, "--output-dir", path])
        #expect(r.status != 0)
        #expect(r.stderr.contains("No space left on device"), "\(r.stderr)")
        #expect(kind(path + "/in.beats.txt") == S_IFLNK)
        #expect(kind("/dev/full") == S_IFCHR)
    }

    // MARK: item 1: output paths

    @Test func plotToADeviceIsWrittenInPlace() throws {
        let r = try TrackCommandTests().run(["track", "--example", "--plot", "/dev/full"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("/dev/full: cannot write: No space left on device"), "\(r.stderr)")
        #expect(kind("/dev/full") == S_IFCHR)
        let ok = try TrackCommandTests().run(["track", "--example", "--plot", "/dev/null",
                                              "--activations", "/dev/null"])
        #expect(ok.status == 0)
        #expect(kind("/dev/null") == S_IFCHR)
    }

    @Test func plotToStdoutGoesToStdout() throws {
        let r = try TrackCommandTests().run(["track", "--example", "--plot", "/dev/stdout"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("<svg"))
        #expect(Double(r.stdout.prefix { $0 != "\n" }) != nil, "beats first, then the plot")
    }

    @Test func aSymlinkedOutputKeepsTheLinkAndFillsItsTarget() throws {
        defer { remove() }
        try "old\n".write(toFile: path + "/real.txt", atomically: false, encoding: .utf8)
        symlink("real.txt", path + "/act.txt")
        let r = try TrackCommandTests().run(["track", "--example", "--activations", path + "/act.txt"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(kind(path + "/act.txt") == S_IFLNK)
        let text = try String(contentsOfFile: path + "/real.txt", encoding: .utf8)
        #expect(text.hasPrefix("# time activation"))
        // 30 s at 100 frames/s, streamed as they are made.
        #expect(text.split(separator: "\n").count > 2_900)
    }

    @Test func activationsIntoAFIFOAreStreamed() throws {
        defer { remove() }
        let fifo = path + "/frames"
        #expect(mkfifo(fifo, 0o600) == 0)
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: "/bin/cat")
        reader.arguments = [fifo]
        let out = Pipe()
        reader.standardOutput = out
        try reader.run()
        let r = try TrackCommandTests().run(["track", "--example", "--activations", fifo])
        let got = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        reader.waitUntilExit()
        #expect(r.status == 0, "\(r.stderr)")
        #expect(got.hasPrefix("# time activation"))
        #expect(kind(fifo) == S_IFIFO)
    }

    // MARK: item 11: --output-dir collisions

    @Test func inputsWithTheSameStemAreRefusedBeforeAnythingIsWritten() throws {
        defer { remove() }
        let a = try TestWorkspace("stem-a", duration: 6), b = try TestWorkspace("stem-b", duration: 6)
        defer { a.remove(); b.remove() }
        let out = path + "/beats"
        let r = try TrackCommandTests().run(["track", a.wav, b.wav, "--output-dir", out])
        #expect(r.status != 0)
        #expect(r.stderr.contains("\(a.wav) and \(b.wav)"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out + "/in.beats.txt"))
    }

    // MARK: item 7: --speed

    @Test(arguments: ["0", "-1", "nan", "inf", "1e308", "1e-9"])
    func aSpeedOutsideItsRangeIsRefused(value: String) throws {
        let r = try TrackCommandTests().run(["run", "--speed", value, "--duration", "0.1"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--speed"), "\(r.stderr)")
    }

    // MARK: item 15: --set messages

    @Test(arguments: [
        ("tracker.max_bpm=0x10", ["tracker.max_bpm", "0x10", "20.0...1000.0 BPM"]),
        ("tracker.max_bpm=9000", ["tracker.max_bpm", "9000", "20.0...1000.0 BPM"]),
        ("tracker.max_bpm=1e999", ["tracker.max_bpm", "1e999", "20.0...1000.0"]),
        ("tracker.tempo_count=1.5", ["tracker.tempo_count", "1.5", "0...1000"]),
        ("output.stdout=yes", ["output.stdout", "yes", "true|false"]),
        ("emission.mode=fast", ["emission.mode", "fast", "reactive|predictive"]),
        ("tracker.nope=1", ["tracker.nope", "tracker.min_bpm"]),
    ])
    func setErrorsNameKeyValueAndRange(setting: String, expected: [String]) throws {
        let r = try TrackCommandTests().run(["track", "--example", "--set", setting])
        #expect(r.status != 0)
        for part in expected { #expect(r.stderr.contains(part), "\(setting): \(r.stderr)") }
    }

    // MARK: item 8: check-config accepts exactly what run accepts

    /// Every configuration of the fuzz corpus, and a few that only the daemon used to reject,
    /// through both. `run` starts on ALSA's default device (absent here: it retries) for a moment.
    @Test func checkConfigAndRunAgreeOnEveryCorpusConfig() throws {
        defer { remove() }
        let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("fuzz/corpus/config")
        var files = try FileManager.default.contentsOfDirectory(atPath: corpus.path).sorted()
            .map { corpus.path + "/" + $0 }
        let extra = [
            "[model]\npath = \"\(path)/missing.tnn\"\n",
            "[capture]\nsource = \"file\"\n",
            "[capture]\nsource = \"file\"\nfile = \"\(path)/missing.wav\"\n",
            "[features]\nhop_size = 1\n[tracker]\nmin_bpm = 10\n",
            "[output]\nosc_targets = \"127.0.0.1\"\n",
            "[output]\njsonl_udp = \"[::1]\"\n",
            "[output]\njsonl_socket_mode = \"999\"\n",
            "[output]\njsonl_socket_group = \"tactus-no-such-group\"\n",
            "[features]\nbands_per_octave = 6\n",
            "[control]\nlisten = \"localhost:7710\"\n",
            "[control]\nallow = \"192.168.1.0/40\"\n",
            "[output]\nqlc_bar_path = \"bar\"\n",
            "[tracker]\nmin_bpm = 60\nmax_bpm = 180\n",
        ]
        for (i, text) in extra.enumerated() {
            let f = path + "/extra-\(i).toml"
            try text.write(toFile: f, atomically: false, encoding: .utf8)
            files.append(f)
        }
        var rejected = 0
        for file in files {
            let check = try TrackCommandTests().run(["check-config", file])
            let run = try TrackCommandTests().run(["run", "--config", file, "--duration", "0.3",
                                                   "--set", "output.stdout=false",
                                                   "--set", "capture.realtime_priority=0"])
            #expect((check.status == 0) == (run.status == 0),
                    "\(file): check-config \(check.status) \(check.stderr) / run \(run.status) \(run.stderr)")
            if check.status != 0 { rejected += 1 }
        }
        #expect(rejected >= extra.count - 1, "the extra configurations but the last are rejected")
    }

    // MARK: item 10: an OSC host that does not resolve

    @Test func anUnresolvableOSCHostIsNotFatal() throws {
        let ws = try TestWorkspace("resolve", duration: 4)
        defer { ws.remove() }
        let r = try TrackCommandTests().run(["run", "--set", "capture.source=file", "--set", "capture.file=\(ws.wav)",
                                             "--set", "capture.realtime_priority=0", "--set", "output.stdout=false",
                                             "--set", "output.osc_targets=tactus-no-such-host.invalid:9000",
                                             "--speed", "4"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("tactus-no-such-host.invalid:9000: cannot resolve"), "\(r.stderr)")
        #expect(r.stderr.contains("input ended"))
    }

    // MARK: item 3 in the daemon: stdout fails, the daemon runs on

    @Test func theDaemonKeepsRunningWhenStdoutFails() throws {
        let ws = try TestWorkspace("stdout", duration: 8)
        defer { ws.remove() }
        let r = try run(["run", "--set", "capture.source=file", "--set", "capture.file=\(ws.wav)",
                         "--set", "capture.realtime_priority=0", "--speed", "4"], stdoutTo: "/dev/full")
        #expect(r.status == 0, "\(r.stderr)")
        let failures = r.stderr.components(separatedBy: "stdout: cannot write: No space left on device").count - 1
        #expect(failures == 1, "logged once: \(r.stderr)")
        #expect(r.stderr.contains("input ended"))
    }
}

/// Issue 18, item 9: a SIGHUP applies what it can while running.
@Suite(.serialized) struct ReloadTests {
    /// A UDP socket on loopback that collects datagrams.
    final class Receiver: @unchecked Sendable {
        let fd: Int32
        let port: UInt16

        init() {
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            _ = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            var bound = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &bound) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            var tv = timeval(tv_sec: 0, tv_usec: 200_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            self.fd = fd
            port = UInt16(bigEndian: bound.sin_port)
        }

        deinit { close(fd) }

        /// Datagrams that arrive within `seconds` (or until `enough` arrived).
        func receive(for seconds: Double, enough: Int = 4) -> Int {
            var count = 0
            var buffer = [UInt8](repeating: 0, count: 2048)
            let end = Date().addingTimeInterval(seconds)
            while Date() < end && count < enough {
                if recv(fd, &buffer, buffer.count, 0) > 0 { count += 1 }
            }
            return count
        }
    }

    @Test func reloadKeepsTheLockAppliesOutputsAndNamesRestartKeys() throws {
        let ws = try TestWorkspace("reload", tempo: 124, duration: 12)
        defer { ws.remove() }
        let config = ws.dir.appendingPathComponent("tactus.toml")
        let base = "[capture]\nsource = \"file\"\nfile = \"\(ws.wav)\"\nloop = true\nrealtime_priority = 0\n"
        try base.write(to: config, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = TrackCommandTests.binary
        p.arguments = ["run", "--config", config.path]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let log = LogWaiter(err, process: p, timeout: 300)
        log.waitFor("locked at")

        // The same file again: nothing changes, the tracker keeps its lock.
        kill(p.processIdentifier, SIGHUP)
        log.waitFor("configuration reloaded")
        Thread.sleep(forTimeInterval: 1.5)
        log.waitFor("nothing to change")
        #expect(!log.text.contains("lock lost"), "\(log.text)")

        // An emission setting: retuned in place, still no restart of the tracker.
        try (base + "[emission]\nlead = 0.06\n").write(to: config, atomically: true, encoding: .utf8)
        kill(p.processIdentifier, SIGHUP)
        log.waitFor("applied emission.lead")
        Thread.sleep(forTimeInterval: 1)
        #expect(!log.text.contains("lock lost"), "\(log.text)")
        #expect(!log.text.contains("tracker starts over"))

        // A new OSC target: beats reach it without a restart; a capture key waits for one.
        let receiver = Receiver()
        try (base.replacingOccurrences(of: "loop = true", with: "loop = true\nperiod_hops = 2")
             + "[emission]\nlead = 0.06\n[output]\nosc_targets = \"127.0.0.1:\(receiver.port)\"\n")
            .write(to: config, atomically: true, encoding: .utf8)
        kill(p.processIdentifier, SIGHUP)
        log.waitFor("applied output.osc_targets")
        #expect(receiver.receive(for: 30) >= 4)
        #expect(log.text.contains("reload: capture.period_hops take effect after a restart"), "\(log.text)")

        // A tracker setting: a new pipeline, said so.
        try (base + "[tracker]\nmax_bpm = 200\n").write(to: config, atomically: true, encoding: .utf8)
        kill(p.processIdentifier, SIGHUP)
        log.waitFor("tracker starts over")
        kill(p.processIdentifier, SIGTERM)
        let e = log.finish()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(e)")
    }
}
