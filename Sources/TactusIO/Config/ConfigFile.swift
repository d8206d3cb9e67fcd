import Foundation
import TactusCore
import TOMLKit

/// Reads a TOML configuration (the keys of `config/tactus.toml`) into a `TactusConfig`. Every
/// error names the file, the line and the key: unknown keys and sections, wrong types, values
/// out of range, broken TOML.
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

    public static func parse(_ text: String, path: String, base: TactusConfig = TactusConfig()) throws(ConfigFileError) -> TactusConfig {
        try checkCharacters(text, path: path)
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigFileError(path: path, line: error.source.begin.line, key: nil, message: error.description)
        } catch {
            throw ConfigFileError(path: path, line: nil, key: nil, message: "\(error)")
        }
        let lines = keyLines(text)
        var config = base
        for section in table.keys.sorted() {
            guard let entries = table[section]?.table else {
                throw ConfigFileError(path: path, line: lines[section], key: section,
                                      message: "every key belongs in a section, e.g. [tracker]")
            }
            for key in entries.keys.sorted() {
                let full = "\(section).\(key)"
                let line = lines[full] ?? lines[section]
                guard let parameter = ParameterTable.parameter(full) else {
                    throw ConfigFileError(path: path, line: line, key: full, message: "unknown key")
                }
                guard let raw = entries[key], let value = parameterValue(raw) else {
                    throw ConfigFileError(path: path, line: line, key: full,
                                          message: "expected \(parameter.typeName), got a \(entries[key]?.type.description ?? "value")")
                }
                do { try config.set(full, value: value) } catch {
                    throw ConfigFileError(path: path, line: line, key: full, message: message(of: error))
                }
            }
        }
        do { try config.validate() } catch {
            let key: String? = if case .invalid(let k, _) = error { k } else { nil }
            throw ConfigFileError(path: path, line: key.flatMap { lines[$0] }, key: key, message: message(of: error))
        }
        return config
    }

    /// Tactus's keys are printable ASCII; anything else outside strings and comments is an error
    /// here, before the TOML parser sees it: toml++ 3 (in TOMLKit 0.6.0) aborts on some of them
    /// in keys (an assertion in `parse_key`, found by tools/fuzz.sh) instead of reporting them.
    static func checkCharacters(_ text: String, path: String) throws(ConfigFileError) {
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var quote: Character?
            var escaped = false
            for c in line {
                if let q = quote {
                    if escaped { escaped = false } else if c == "\\" && q == "\"" { escaped = true } else if c == q { quote = nil }
                    continue
                }
                if c == "#" { break }
                if c == "\"" || c == "'" { quote = c; continue }
                if !c.isASCII {
                    throw ConfigFileError(path: path, line: i + 1, key: nil,
                                          message: "character '\(c)' outside a string: keys and sections are ASCII")
                }
                if let v = c.asciiValue, v < 0x20 && v != 0x09 && v != 0x0D || v == 0x7F {
                    throw ConfigFileError(path: path, line: i + 1, key: nil,
                                          message: String(format: "control character 0x%02X outside a string", Int(v)))
                }
            }
            try checkKeys(line, path: path, line: i + 1)
        }
    }

    /// A section header is `[name]` or `[name.name]` of bare-key characters; a key line starts
    /// with a bare-key character or a quote. (toml++ asserts instead of reporting otherwise.)
    static func checkKeys(_ raw: Substring, path: String, line: Int) throws(ConfigFileError) {
        let text = raw.trimmingCharacters(in: .whitespaces)
        guard let first = text.first, first != "#" else { return }
        func bare(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber || c == "_" || c == "-") }
        if first == "[" {
            var body = Substring(text.dropFirst())
            guard let close = body.firstIndex(of: "]") else {
                throw ConfigFileError(path: path, line: line, key: nil, message: "section header without ']'")
            }
            let after = body[body.index(after: close)...].trimmingCharacters(in: .whitespaces)
            body = body[..<close]
            let parts = body.split(separator: ".", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(bare) }), after.isEmpty || after.hasPrefix("#") else {
                throw ConfigFileError(path: path, line: line, key: nil,
                                      message: "malformed section header '\(text)': expected [name]")
            }
        } else if !(bare(first) || first == "\"" || first == "'") {
            throw ConfigFileError(path: path, line: line, key: nil,
                                  message: "expected key = value, got '\(text.prefix(40))'")
        }
    }

    private static func parameterValue(_ v: TOMLValueConvertible) -> ParameterValue? {
        switch v.type {
        case .int: return v.int.map { .int($0) }
        case .double: return v.double.map { .double($0) }
        case .string: return v.string.map { .string($0) }
        case .bool: return v.bool.map { .bool($0) }
        default: return nil
        }
    }

    private static func message(of error: ConfigError) -> String {
        switch error {
        case .invalid(_, let why): return why
        case .unknownKey: return "unknown key"
        }
    }

    /// Line (1-based) of every `[section]` header and `key =` line, as "section" and
    /// "section.key": TOML libraries hand back values without their position.
    static func keyLines(_ text: String) -> [String: Int] {
        var lines: [String: Int] = [:]
        var section = ""
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("["), let end = line.firstIndex(of: "]") {
                section = String(line[line.index(after: line.startIndex)..<end]).trimmingCharacters(in: .whitespaces)
                if lines[section] == nil { lines[section] = i + 1 }
            } else if !line.hasPrefix("#"), let eq = line.firstIndex(of: "=") {
                let key = line[..<eq].trimmingCharacters(in: .whitespaces)
                let full = section.isEmpty ? key : "\(section).\(key)"
                if lines[full] == nil { lines[full] = i + 1 }
            }
        }
        return lines
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
