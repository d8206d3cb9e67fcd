import ArgumentParser
import Glibc
import TactusCore
import TactusIO

/// Sends an operator command to the running daemon and prints its answer (issue 20).
struct CtlCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ctl",
        abstract: "Send a command to the running daemon: tap, half, double, nudge MS, range [MIN MAX], hold, "
            + "release, downbeat, meter N, phrase N, reset.",
        discussion: """
            Exit status: 0 applied (or a tap recorded), 1 rejected or unreadable, 3 no daemon answered.
            `tactus ctl tap --keys` turns the terminal into a tap button: each Enter is a tap, q or end of input stops.
            """)

    @Argument(parsing: .allUnrecognized, help: "The command and its arguments, e.g. `nudge -10`, `range 80 100`.")
    var words: [String] = []

    @Option(help: "The daemon's JSON-lines socket (output.jsonl_socket).")
    var socket: String = "/run/tactus/events.sock"

    @Option(help: "Send over OSC to the daemon's control.listen, host:port, instead of the socket.")
    var osc: String?

    @Flag(help: "With tap: read Enter presses from the terminal as taps until q or end of input.")
    var keys = false

    func run() throws {
        let command: ControlCommand
        do { command = try ControlCommand(words: words) } catch {
            Console.error("\(error)")
            throw ExitCode(2)
        }
        if keys && command != .tap {
            Console.error("--keys goes with tap only")
            throw ExitCode(2)
        }
        let client: ControlClient
        do throws(OutputError) {
            if let osc {
                client = try ControlClient(oscTarget: osc)
            } else {
                client = try ControlClient(socketPath: socket)
            }
        } catch {
            let hint = osc == nil ? " (is `tactus run` running with output.jsonl_socket set?)" : ""
            Console.error(error.message + hint)
            throw ExitCode(3)
        }
        if keys {
            print("Tap Enter on the beat (q then Enter, or Ctrl-D, to stop).")
            while let line = readLine(), line.lowercased() != "q" {
                _ = try answer(client, command)
            }
            return
        }
        let ok = try answer(client, command)
        if !ok { throw ExitCode(1) }
    }

    /// Sends one command and prints its ack; whether it was applied.
    private func answer(_ client: ControlClient, _ command: ControlCommand) throws -> Bool {
        let ack: ControlClient.Ack?
        do { ack = try client.send(command) } catch {
            Console.error(error.message)
            throw ExitCode(3)
        }
        guard let ack else {
            Console.error("\(client.destination): no answer within 2 s"
                          + (osc != nil ? " (is control.listen set there, and this host in control.allow?)" : ""))
            throw ExitCode(3)
        }
        print(ack.message.isEmpty ? ack.result : ack.message)
        return ack.ok
    }
}
