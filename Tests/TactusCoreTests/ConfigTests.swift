import Foundation
import TactusCore
import Testing

@Suite struct ConfigTests {
    @Test func defaultsAreValidAndMadmoms() throws {
        let c = TactusConfig()
        try c.validate()
        #expect(c.tracker.minBPM == 55 && c.tracker.maxBPM == 215)
        #expect(c.tracker.transitionLambda == 100 && c.tracker.observationLambda == 16)
        #expect(c.features.frameSize == 2048 && c.features.hopSize == 441)
    }

    @Test func setsValuesAndNamesTheKeyOnError() throws {
        var c = TactusConfig()
        try c.set("tracker.min_bpm", text: "60")
        #expect(c.tracker.minBPM == 60)
        try c.set("tracker.tempo_count", text: "40")
        #expect(c.tracker.tempoCount == 40)
        #expect(throws: ConfigError.invalid(key: "tracker.max_bpm", "5000.0 is outside 20.0...1000.0 BPM")) {
            try c.set("tracker.max_bpm", text: "5000")
        }
        #expect(throws: ConfigError.invalid(key: "tracker.tempo_count",
                                           "'many' is not a decimal integer; "
                                           + "tracker.tempo_count takes 0...1000 states")) {
            try c.set("tracker.tempo_count", text: "many")
        }
        #expect(throws: ConfigError.unknownKey("tracker.speed")) { try c.set("tracker.speed", text: "1") }
        c.tracker.minBPM = 300
        #expect(throws: ConfigError.invalid(key: "tracker.min_bpm", "must be below tracker.max_bpm (215.0)")) {
            try c.validate()
        }
    }

    /// config/tactus.toml documents every parameter once, with its default.
    @Test func exampleConfigDocumentsEveryKeyWithItsDefault() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("config/tactus.toml"), encoding: .utf8)
        var section = ""
        var documented: [String: String] = [:]
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[") { section = String(line.dropFirst().dropLast()); continue }
            // Keys appear as `key = value` (uncommented: the default in force).
            guard !line.hasPrefix("#"), let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if let hash = value.firstIndex(of: "#") { value = value[..<hash].trimmingCharacters(in: .whitespaces) }
            documented["\(section).\(key)"] = value
        }
        for p in ParameterTable.all {
            let value = try #require(documented[p.key], "config/tactus.toml lacks \(p.key)")
            switch p.defaultValue {
            case .int(let v): #expect(Int(value) == v, "\(p.key)")
            case .double(let v): #expect(abs(Double(value)! - v) <= 1e-6 * abs(v), "\(p.key)")
            case .string(let v): #expect(value == "\"\(v)\"", "\(p.key)")
            case .bool(let v): #expect(value == String(v), "\(p.key)")
            }
        }
        #expect(documented.count == ParameterTable.all.count, "no undocumented extras")
    }
}
