import Foundation
import Testing

/// madmom 0.16.1 reference outputs made by tools/make_reference.py (tools/test.sh builds them).
/// Located by $TACTUS_REFERENCE_DIR, else `reference/` at the package root.
struct ReferenceData {
    struct Item {
        let name: String
        let audioPath: String
        let frames: Int
    }

    static let directory: String = {
        if let dir = ProcessInfo.processInfo.environment["TACTUS_REFERENCE_DIR"], !dir.isEmpty { return dir }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent("reference").path
    }()

    static var modelPath: String { (directory as NSString).appendingPathComponent("madmom_beats_lstm.tnn") }

    static var available: Bool {
        FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent("index.tsv"))
            && FileManager.default.fileExists(atPath: modelPath)
    }

    static let skipReason: Comment = """
        madmom reference outputs not found in \(directory): run tools/test.sh (or \
        tools/make_reference.py and tools/convert_madmom.py with the madmom venv) to build them
        """

    static func items() throws -> [Item] {
        let text = try String(contentsOfFile: (directory as NSString).appendingPathComponent("index.tsv"),
                              encoding: .utf8)
        return text.split(separator: "\n").dropFirst().map { line in
            let f = line.split(separator: "\t").map(String.init)
            return Item(name: f[0], audioPath: f[1], frames: Int(f[2])!)
        }
    }

    /// The items this run checks. The plain run (tools/test.sh) checks them all. Under a sanitizer
    /// (tools/sanitize.sh) the generated signals, the sample and two real files: every file runs
    /// the same single-threaded code, 5-15 times slower there, and the plain run has the numbers.
    static func itemsForThisRun() throws -> [Item] {
        let all = try items()
        guard ProcessInfo.processInfo.environment["TACTUS_SANITIZER"] != nil else { return all }
        let real = all.filter { !$0.name.hasPrefix("gen_") && $0.name != "sample" }
        return all.filter { $0.name.hasPrefix("gen_") || $0.name == "sample" } + real.prefix(2)
    }

    static func floats(_ name: String, _ ext: String) throws -> [Float] {
        let data = try Data(contentsOf: URL(
            fileURLWithPath: (directory as NSString).appendingPathComponent("\(name).\(ext)")))
        return data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map {
                Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))
            }
        }
    }

    static func beats(_ name: String) throws -> [Double] {
        let text = try String(contentsOfFile: (directory as NSString).appendingPathComponent("\(name).beats.txt"),
                              encoding: .utf8)
        return text.split(separator: "\n").compactMap { Double($0) }
    }
}

