import FoundationEssentials
import Glibc
import TactusCore

/// Reads a TOML configuration (the keys of `config/tactus.toml`) into a `TactusConfig`. Every
/// error names the file, the line and the key: unknown keys and sections, wrong types, values
/// out of range, broken TOML (parsed by `TOMLDocument`).
public enum ConfigFile {
    public static let defaultPath = "/etc/tactus/tactus.toml"

    public static func load(path: String, base: TactusConfig = TactusConfig()) throws(ConfigFileError) -> TactusConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            let why = FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file"
            throw ConfigFileError(path: path, line: nil, key: nil, message: why)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigFileError(path: path, line: nil, key: nil, message: "not UTF-8 text")
        }
        return try parse(text, path: path, base: base)
    }

    public static func parse(_ text: String, path: String,
                             base: TactusConfig = TactusConfig()) throws(ConfigFileError) -> TactusConfig {
        let document: TOMLDocument
        do { document = try TOMLDocument(parsing: text) } catch {
            throw ConfigFileError(path: path, line: error.line, key: nil, message: error.message)
        }
        if let array = document.headers.first(where: { $0.isArray }) {
            throw ConfigFileError(path: path, line: array.line, key: array.key.joined(separator: "."),
                                  message: "Tactus has no arrays of tables")
        }
        var lines: [String: Int] = [:]
        var config = base
        for entry in document.entries {
            let full = entry.key.joined(separator: ".")
            lines[full] = entry.line
            guard entry.key.count == 2 else {
                throw ConfigFileError(path: path, line: entry.line, key: full,
                                      message: entry.key.count == 1
                                          ? "every key belongs in a section, e.g. [tracker]" : "unknown key")
            }
            guard let parameter = ParameterTable.parameter(full) else {
                throw ConfigFileError(path: path, line: entry.line, key: full, message: "unknown key")
            }
            guard let value = parameterValue(entry.value) else {
                throw ConfigFileError(path: path, line: entry.line, key: full,
                                      message: "expected \(parameter.typeName), got \(entry.value.typeName)")
            }
            do { try config.set(full, value: value) } catch {
                throw ConfigFileError(path: path, line: entry.line, key: full, message: message(of: error))
            }
        }
        do { try config.validate() } catch {
            let key: String? = if case .invalid(let k, _) = error { k } else { nil }
            throw ConfigFileError(path: path, line: key.flatMap { lines[$0] }, key: key, message: message(of: error))
        }
        return config
    }

    private static func parameterValue(_ v: TOMLDocument.Value) -> ParameterValue? {
        switch v {
        case .int(let i): .int(i)
        case .double(let d): .double(d)
        case .string(let s): .string(s)
        case .bool(let b): .bool(b)
        default: nil
        }
    }

    private static func message(of error: ConfigError) -> String {
        switch error {
        case .invalid(_, let why): return why
        case .unknownKey: return "unknown key"
        }
    }
}

public struct ConfigFileError: Error, Equatable, CustomStringConvertible {
    public let path: String
    public let line: Int?
    public let key: String?
    public let message: String

    public init(path: String, line: Int?, key: String?, message: String) {
        self.path = path
        self.line = line
        self.key = key
        self.message = message
    }

    public var description: String {
        var s = path
        if let line { s += ":\(line)" }
        s += ": "
        if let key { s += "\(key): " }
        return s + message
    }
}
