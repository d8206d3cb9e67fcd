import FoundationEssentials
import Glibc
import TactusCore

/// Loads a Tactus weight file from disk (format: docs/weight-format.md).
public enum ModelFile {
    public static func load(path: String) throws(ModelFileError) -> ModelSpec {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ModelFileError(path: path, message: "no such file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelFileError(path: path, message: "cannot be read")
        }
        do {
            return try WeightFormat.decode([UInt8](data))
        } catch {
            throw ModelFileError(path: path, message: error.description)
        }
    }
}

public struct ModelFileError: Error, Equatable, CustomStringConvertible {
    public let path: String
    public let message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): not a usable weight file: \(message)" }
}
