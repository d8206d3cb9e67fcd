import Foundation
import TactusCore
import TactusIO
import Testing

@Suite struct ConfigFileTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func theShippedConfigIsTheDefaults() throws {
        let config = try ConfigFile.load(path: Self.root.appendingPathComponent("config/tactus.toml").path)
        #expect(config == TactusConfig())
    }

    @Test func readsValues() throws {
        let c = try ConfigFile.parse("""
            [tracker]
            min_bpm = 80          # an integer where a number is expected is fine
            max_bpm = 160.0
            [emission]
            mode = "reactive"
            [model]
            path = "/opt/beats.tnn"
            """, path: "t.toml")
        #expect(c.tracker.minBPM == 80 && c.tracker.maxBPM == 160)
        #expect(c.emission.mode == .reactive && c.modelPath == "/opt/beats.tnn")
    }

    func error(_ text: String) -> String {
        do { _ = try ConfigFile.parse(text, path: "tactus.toml"); return "no error" } catch { return error.description }
    }

    @Test func errorsNameFileLineAndKey() {
        #expect(error("[tracker]\nmin_bpm = 60\nspeed = 3\n") == "tactus.toml:3: tracker.speed: unknown key")
        #expect(error("[tracker]\n\nmax_bpm = \"fast\"\n")
                == "tactus.toml:3: tracker.max_bpm: expected a number, got \"fast\"")
        #expect(error("[features]\nhop_size = 0\n")
                == "tactus.toml:2: features.hop_size: 0 is outside 1...16384 samples")
        #expect(error("[emission]\nmode = \"eager\"\n")
                == "tactus.toml:2: emission.mode: 'eager' is not one of reactive|predictive")
        #expect(error("[tracker]\nmin_bpm = 200\nmax_bpm = 150\n")
                == "tactus.toml:2: tracker.min_bpm: must be below tracker.max_bpm (150.0)")
        #expect(error("[nonsense]\nx = 1\n") == "tactus.toml:2: nonsense.x: unknown key")
        #expect(error("tempo = 120\n") == "tactus.toml:1: tempo: every key belongs in a section, e.g. [tracker]")
        #expect(error("[tracker\nmin_bpm = 1\n") == "tactus.toml:1: section header without ']'")
        #expect(error("[ = 180\n[emission]\n") == "tactus.toml:1: section header without ']'")
        #expect(error("[ = 180]\n") == "tactus.toml:1: malformed section header '[ = 180]': expected [name]")
        #expect(error("[tracker]\n= 5\n") == "tactus.toml:2: expected key = value, got '= 5'")
        // Found by tools/fuzz.sh: toml++ aborted on this (an assertion in its key parser).
        #expect(error("[\u{FFFD}rackep]\nmin_bpm = 60\n")
                == "tactus.toml:1: character '\u{FFFD}' outside a string: keys and sections are ASCII")
        #expect(error("[\u{03}\u{00}]\nmin_bpm = 30\n") == "tactus.toml:1: control character 0x03 outside a string")
        // OSC target entries are checked with the file, not only when the daemon starts.
        #expect(error("[output]\nstdout = true\nosc_targets = \"10.0.0.2:7700/dmx\"\n")
                == "tactus.toml:3: output.osc_targets: '10.0.0.2:7700/dmx': unknown preset 'dmx' "
                + "(generic, qlcplus, resolume, grandma3)")
        #expect(error("[output]\nosc_targets = \"10.0.0.2:7700+lead=0.1\"\n")
                == "tactus.toml:2: output.osc_targets: '10.0.0.2:7700': +lead=0.1 is more than emission.lead "
                + "(0.05 s): beats are known only that early")
        #expect(error("[tracker]\nmin_bpm = 60 # tempo ≥ 60\n") == "no error", "comments may be anything")
        // Any TOML spelling of a section works; what Tactus has no use for is named.
        #expect(error("tracker = { min_bpm = 80, max_bpm = 160 }\n") == "no error")
        #expect(error("tracker.min_bpm = 80\n") == "no error")
        #expect(error("[tracker]\nmin_bpm = [80]\n")
                == "tactus.toml:2: tracker.min_bpm: expected a number, got an array")
        #expect(error("[[tracker]]\nmin_bpm = 80\n") == "tactus.toml:1: tracker: Tactus has no arrays of tables")
        #expect(error("[tracker]\nmin_bpm = 80\nmin_bpm = 90\n") == "tactus.toml:3: 'tracker.min_bpm' is defined twice")
        #expect(error("[model]\npath = \"/opt/modèles/beats.tnn\"\n") == "no error", "strings may be anything")
    }

    @Test func aMissingFileSaysSo() {
        #expect(throws: ConfigFileError(path: "/nonexistent/tactus.toml", line: nil, key: nil,
                                        message: "no such file")) {
            try ConfigFile.load(path: "/nonexistent/tactus.toml")
        }
    }
}
