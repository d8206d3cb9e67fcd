import Foundation
import Testing

/// The `tactus` executable as a user runs it.
@Suite struct TrackCommandTests {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The binary sits next to the test bundle in the build directory.
    static let binary: URL = {
        var dir = Bundle.main.bundleURL
        while dir.path != "/" {
            let candidate = dir.appendingPathComponent("tactus")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: ".build/debug/tactus")
    }()

    func run(_ args: [String]) throws -> Output { try Self.runTactus(args) }

    /// Runs the built binary to its end and collects its output; `wrapper` runs it under another
    /// command (e.g. `["/usr/bin/unshare", "-n"]` for a private network namespace).
    static func runTactus(_ args: [String], wrapper: [String] = []) throws -> Output {
        let p = Process()
        if let command = wrapper.first {
            p.executableURL = URL(fileURLWithPath: command)
            p.arguments = wrapper.dropFirst() + [binary.path] + args
        } else {
            p.executableURL = binary
            p.arguments = args
        }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Output(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                      stderr: String(decoding: e, as: UTF8.self))
    }

    @Test func tracksTheEmbeddedExample() throws {
        let r = try run(["track", "--example"])
        #expect(r.status == 0)
        let beats = r.stdout.split(separator: "\n").compactMap { Double($0) }
        #expect(beats.count > 50)
        #expect(r.stderr.contains("F-measure"))
    }

    /// docs/events.md, version 1.
    @Test func jsonLinesFollowTheEventSchema() throws {
        let r = try run(["track", "--example", "--format", "jsonl"])
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count > 50)
        for line in lines {
            let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(o["v"] as? Int == 1 && o["event"] as? String == "beat")
            #expect(o["time"] is Double && o["emitted"] is Double && o["tempo"] is Double)
            #expect(o["confidence"] is Double && o["count"] is Int && o["predicted"] is Bool)
        }
        // Once locked, beats leave ahead of time.
        let predicted = try lines.compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["predicted"] as? Bool == true }
        #expect(predicted.count > 40)
        #expect(predicted.allSatisfy { ($0["time"] as! Double) - ($0["emitted"] as! Double) >= 0.05 - 1e-3 })
    }

    @Test func plotsTheTrackAsSVG() throws {
        let path = NSTemporaryDirectory() + "tactus-plot-\(UUID().uuidString).svg"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try run(["track", "--example", "--plot", path])
        #expect(r.status == 0)
        let svg = try String(contentsOfFile: path, encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
        let beats = r.stdout.split(separator: "\n").count
        let marked = svg.components(separatedBy: "class=\"predicted\"").count - 1
            + svg.components(separatedBy: "class=\"reactive\"").count - 1
        #expect(marked == beats, "every beat drawn, predicted and reactive apart")
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 3, "activation, tempo, confidence")
    }

    @Test func aMissingFileFailsNamingIt() throws {
        let r = try run(["track", "/nonexistent/song.wav"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("/nonexistent/song.wav: no such file"))
    }

    @Test func aBrokenModelFailsNamingIt() throws {
        let path = NSTemporaryDirectory() + "tactus-broken-\(UUID().uuidString).tnn"
        try Data("nonsense".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try run(["track", "--example", "--model", path])
        #expect(r.status != 0)
        #expect(r.stderr.contains("\(path): not a usable weight file"))
    }

    @Test func aBadParameterNamesTheKey() throws {
        let r = try run(["track", "--example", "--set", "tracker.max_bpm=9000"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("tracker.max_bpm"))
        let unknown = try run(["track", "--example", "--set", "tracker.nope=1"])
        #expect(unknown.stderr.contains("unknown key 'tracker.nope'"))
    }
}

@Suite struct CheckConfigCommandTests {
    @Test func reportsFileLineAndKey() throws {
        let path = NSTemporaryDirectory() + "tactus-config-\(UUID().uuidString).toml"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "[tracker]\nmin_bpm = 60\nmax_bpm = 5000\n".write(toFile: path, atomically: true, encoding: .utf8)
        let r = try TrackCommandTests().run(["check-config", path])
        #expect(r.status == 1)
        #expect(r.stderr.contains("\(path):3: tracker.max_bpm: 5000 is outside 20.0...1000.0 BPM"))
        try "[tracker]\nmin_bpm = 60\n".write(toFile: path, atomically: true, encoding: .utf8)
        let ok = try TrackCommandTests().run(["check-config", path])
        #expect(ok.status == 0 && ok.stdout == "\(path): ok\n")
    }
}
