import FoundationEssentials
import Glibc

/// Expands the command line's inputs: files as given, directories to the audio files inside them.
enum InputFiles {
    static let audioExtensions: Set<String> = [
        "wav", "flac", "ogg", "oga", "opus", "mp3", "aif", "aiff", "au", "caf", "w64"
    ]

    static func expand(_ inputs: [String]) throws -> [String] {
        var files: [String] = []
        for input in inputs {
            var status = stat()
            if stat(input, &status) == 0, status.st_mode & S_IFMT == S_IFDIR {
                let names = try FileManager.default.contentsOfDirectory(atPath: input).sorted()
                for name in names where audioExtensions.contains(PathNames.fileExtension(name)) {
                    files.append(PathNames.join(input, name))
                }
            } else {
                files.append(input)  // missing files are reported by the reader, by name
            }
        }
        return files
    }
}
