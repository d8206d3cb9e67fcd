import Foundation

/// Expands the command line's inputs: files as given, directories to the audio files inside them.
enum InputFiles {
    static let audioExtensions: Set<String> = ["wav", "flac", "ogg", "oga", "opus", "mp3", "aif", "aiff", "au", "caf", "w64"]

    static func expand(_ inputs: [String]) throws -> [String] {
        var files: [String] = []
        for input in inputs {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: input, isDirectory: &isDir), isDir.boolValue {
                let names = try FileManager.default.contentsOfDirectory(atPath: input).sorted()
                for name in names where audioExtensions.contains((name as NSString).pathExtension.lowercased()) {
                    files.append((input as NSString).appendingPathComponent(name))
                }
            } else {
                files.append(input)  // missing files are reported by the reader, by name
            }
        }
        return files
    }
}
