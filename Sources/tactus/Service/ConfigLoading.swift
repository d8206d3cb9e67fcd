import ArgumentParser
import FoundationEssentials
import Glibc
import TactusCore
import TactusIO

/// The configuration a command runs with: the file (if any), then `--set` overrides, validated.
enum ConfigLoading {
    /// For commands: prints the reason and exits with status 2 on a bad configuration.
    static func load(path: String?, defaultPath: String?, settings: [String]) throws -> TactusConfig {
        do { return try loadChecked(path: path, defaultPath: defaultPath, settings: settings) } catch {
            Console.error(error.message)
            throw ExitCode(2)
        }
    }

    struct Failure: Error { let message: String }

    /// Throws `Failure` naming file, line and key (or the `--set` argument).
    static func loadChecked(path: String?, defaultPath: String?, settings: [String]) throws(Failure) -> TactusConfig {
        var config = TactusConfig()
        let file = path ?? defaultPath.flatMap { FileManager.default.fileExists(atPath: $0) ? $0 : nil }
        if let file {
            do { config = try ConfigFile.load(path: file) } catch { throw Failure(message: error.description) }
        }
        for s in settings {
            guard let eq = s.firstIndex(of: "=") else { throw Failure(message: "--set expects KEY=VALUE, got '\(s)'") }
            do { try config.set(String(s[..<eq]), text: String(s[s.index(after: eq)...])) }
            catch { throw Failure(message: "--set \(s): \(error)") }
        }
        do { try config.validate() } catch { throw Failure(message: "\(error)") }
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
