import ArgumentParser
import Foundation
import TactusCore
import TactusIO

/// The configuration a command runs with: the file (if any), then `--set` overrides, validated.
enum ConfigLoading {
    static func load(path: String?, defaultPath: String?, settings: [String]) throws -> TactusConfig {
        var config = TactusConfig()
        let file = path ?? defaultPath.flatMap { FileManager.default.fileExists(atPath: $0) ? $0 : nil }
        if let file {
            do { config = try ConfigFile.load(path: file) } catch {
                Console.error("\(error)")
                throw ExitCode(2)
            }
        }
        for s in settings {
            guard let eq = s.firstIndex(of: "=") else {
                throw ValidationError("--set expects KEY=VALUE, got '\(s)'")
            }
            do { try config.set(String(s[..<eq]), text: String(s[s.index(after: eq)...])) }
            catch { throw ValidationError("--set \(s): \(error)") }
        }
        do { try config.validate() } catch { throw ValidationError("\(error)") }
        return config
    }

    static func model(_ config: TactusConfig) throws -> ModelSpec? {
        guard !config.modelPath.isEmpty else { return nil }
        do { return try ModelFile.load(path: config.modelPath) } catch {
            Console.error("\(error)")
            throw ExitCode(2)
        }
    }
}
