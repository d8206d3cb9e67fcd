import ArgumentParser
import Atomics
import Glibc
import Logging
import TactusCore
import TactusIO

/// Signals seen by the handlers (async-signal-safe atomic stores), read by the main loop.
let stopSignal = ManagedAtomic<Int>(0)
let reloadSignal = ManagedAtomic<Int>(0)

/// The daemon: capture thread → ring → processing thread → event queue → output thread (JSON
/// lines on stdout); the main thread handles signals, config reload, logs, systemd status and
/// watchdog (DESIGN.md, "Threads and rules").
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the live beat tracker (the systemd service): beats as JSON lines on stdout.")

    @Option(help: "TOML configuration (default: \(ConfigFile.defaultPath) when it exists).")
    var config: String?

    @Option(name: .customLong("set"), help: "Set a parameter, KEY=VALUE; repeatable; overrides the file.")
    var settings: [String] = []

    @Option(help: "Stop after this many seconds (tests, benchmarks).")
    var duration: Double?

    @Option(help: "Write run statistics (latency, cost per period, counters, CPU, RSS) as JSON to this file at exit.")
    var stats: String?

    /// Pace of a file source relative to real time (tests and benchmarks run hours of audio in
    /// minutes). Hidden from help, checked like every other option.
    @Option(help: .hidden)
    var speed: Double = 1

    static let speedRange = 0.01...1_000.0

    func validate() throws {
        guard speed.isFinite, Self.speedRange.contains(speed) else {
            throw ValidationError(
                "--speed \(speed) is outside \(Self.speedRange.lowerBound)...\(Self.speedRange.upperBound)")
        }
        if let duration, !(duration.isFinite && duration >= 0) {
            throw ValidationError("--duration must be a number of seconds, 0 or more")
        }
    }

    func run() throws {
        let config = try ConfigLoading.load(path: config,
                                            defaultPath: self.config == nil ? ConfigFile.defaultPath : nil,
                                            settings: settings)
        LoggingSystem.bootstrap { JournalLogHandler(label: $0, level: Logger.Level(config.service.logLevel)) }
        let log = Logger(label: "tactus")
        let daemon: Daemon
        do {
            daemon = try Daemon(config: config, configPath: self.config ?? ConfigFile.defaultPath, settings: settings,
                                speed: speed, log: log)
        } catch is ExitCodeError {
            throw ExitCode(2)  // the reason is logged
        }
        // A parent may have started us with these signals blocked (the mask is inherited).
        var handled = sigset_t()
        sigemptyset(&handled)
        for s in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&handled, s) }
        pthread_sigmask(SIG_UNBLOCK, &handled, nil)
        signal(SIGTERM) { _ in stopSignal.wrappingIncrement(ordering: .relaxed) }
        signal(SIGINT) { _ in stopSignal.wrappingIncrement(ordering: .relaxed) }
        signal(SIGHUP) { _ in reloadSignal.wrappingIncrement(ordering: .relaxed) }
        signal(SIGPIPE, SIG_IGN)
        let summary = daemon.run(duration: duration)
        if let stats {
            do { try OutputFile.write(summary.json, to: stats) } catch {
                log.error("cannot write statistics: \(error)")
                throw ExitCode(1)
            }
        }
    }
}
