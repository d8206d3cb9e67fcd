import CTactusModel
import FoundationEssentials
import Glibc
import TactusCore

/// Loads a Tactus weight file (format: docs/weight-format.md) from disk, or the built-in model.
public enum ModelFile {
    /// The `model.path` that names Tactus's own model compiled into the binary
    /// (models/tactus-beats-v1.tnn); a file of that name is reached as `./builtin`.
    public static let builtinName = "builtin"

    public static func load(path: String) throws(ModelFileError) -> ModelSpec {
        if path == builtinName { return try builtin() }
        guard FileManager.default.fileExists(atPath: path) else {
            throw ModelFileError(path: path, message: "no such file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelFileError(path: path, message: "cannot be read")
        }
        return try decode([UInt8](data), path: path)
    }

    /// Decodes (and so validates) weight-file bytes; an error names PATH.
    static func decode(_ bytes: [UInt8], path: String) throws(ModelFileError) -> ModelSpec {
        do {
            return try WeightFormat.decode(bytes)
        } catch {
            throw ModelFileError(path: path, message: error.description)
        }
    }
}

extension ModelFile {
    /// Tactus's own beat model, decoded (and so validated) from the bytes in the binary.
    public static func builtin() throws(ModelFileError) -> ModelSpec {
        var count = 0
        guard let base = tactus_builtin_model(&count) else {
            throw ModelFileError(path: builtinName, message: "no model compiled in")
        }
        return try decode(Array(UnsafeBufferPointer(start: base, count: count)), path: builtinName)
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
