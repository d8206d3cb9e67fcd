import ArgumentParser
import TactusIO

/// Validates a configuration file exactly as `tactus run` does before it starts (Preflight):
/// every key known, typed and in range, the sizes it implies, the model, the socket's group and
/// the capture file.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check a TOML configuration as `tactus run` would; errors name file, line and key.")

    @Argument(help: "Configuration file (default: \(ConfigFile.defaultPath)).")
    var path: String = ConfigFile.defaultPath

    @Option(name: .customLong("set"), help: "Set a parameter, KEY=VALUE, as with `run`; repeatable.")
    var settings: [String] = []

    func run() throws {
        do {
            let config = try ConfigLoading.loadChecked(path: path, defaultPath: nil, settings: settings)
            _ = try Preflight.check(config)
            try Console.output("\(path): ok\n")
        } catch let error as ConfigLoading.Failure {
            Console.error(error.message)
            throw ExitCode(1)
        } catch {
            Console.error("\(error)")
            throw ExitCode(1)
        }
    }
}
