import ArgumentParser
import TactusIO

/// Validates a configuration file: every key known, typed and in range.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check a TOML configuration; errors name file, line and key.")

    @Argument(help: "Configuration file (default: \(ConfigFile.defaultPath)).")
    var path: String = ConfigFile.defaultPath

    func run() throws {
        do {
            _ = try ConfigFile.load(path: path)
            print("\(path): ok")
        } catch {
            Console.error("\(error)")
            throw ExitCode(1)
        }
    }
}
