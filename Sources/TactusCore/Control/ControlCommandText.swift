/// The text form of a command, as the operator types it (`tactus ctl nudge -10`) and as the OSC
/// and JSON inputs carry it: a name and its arguments. Parsing is strict (decimal numbers, the
/// exact argument count) and every error says what the command takes.
extension ControlCommand {
    /// Every command name, with what it takes (for help and error messages).
    public static let usage: [(name: String, arguments: String)] = [
        ("tap", ""), ("half", ""), ("double", ""), ("nudge", "<ms>"), ("range", "[<min bpm> <max bpm>]"),
        ("hold", ""), ("release", ""), ("downbeat", ""), ("meter", "<beats per bar>"),
        ("phrase", "<bars per phrase>"), ("reset", ""),
    ]

    /// Parses `name` and its arguments (`["nudge", "-10"]`, `["range", "80", "100"]`, `["range"]`).
    public init(words: [String]) throws(ControlParseError) {
        guard let name = words.first else { throw ControlParseError("empty command") }
        let args = Array(words.dropFirst())
        func none(_ c: ControlCommand) throws(ControlParseError) -> ControlCommand {
            guard args.isEmpty else { throw Self.usageError(name, "takes no arguments") }
            return c
        }
        func number(_ i: Int) throws(ControlParseError) -> Double {
            let t = args[i]
            guard t.utf8.count <= 32, !t.isEmpty, t.allSatisfy({ "0123456789+-.eE".contains($0) }),
                  let v = Double(t), v.isFinite else {
                throw Self.usageError(name, "'\(Self.shown(t))' is not a finite decimal number")
            }
            return v
        }
        func integer() throws(ControlParseError) -> Int {
            guard args.count == 1 else { throw Self.usageError(name, "takes one whole number") }
            guard args[0].utf8.count <= 12, let v = Int(args[0]) else {
                throw Self.usageError(name, "'\(Self.shown(args[0]))' is not a whole number")
            }
            return v
        }
        switch name {
        case "tap": self = try none(.tap)
        case "half": self = try none(.half)
        case "double": self = try none(.double)
        case "hold": self = try none(.hold)
        case "release": self = try none(.release)
        case "downbeat": self = try none(.downbeat)
        case "reset": self = try none(.reset)
        case "nudge":
            guard args.count == 1 else { throw Self.usageError(name, "takes one number of milliseconds") }
            self = .nudge(milliseconds: try number(0))
        case "range":
            switch args.count {
            case 0: self = .fullRange
            case 2: self = .range(minBPM: try number(0), maxBPM: try number(1))
            default: throw Self.usageError(name, "takes two tempi (BPM), or none for the configured range")
            }
        case "meter": self = .meter(try integer())
        case "phrase": self = .phrase(try integer())
        default:
            throw ControlParseError("unknown command '\(Self.shown(name))' (commands: "
                                    + Self.usage.map(\.name).joined(separator: ", ") + ")")
        }
    }

    /// The command's name and arguments as text; `ControlCommand(words:)` reads them back.
    public var words: [String] {
        switch self {
        case .nudge(let ms): [name, Self.number(ms)]
        case .range(let lo, let hi): [name, Self.number(lo), Self.number(hi)]
        case .meter(let n), .phrase(let n): [name, String(n)]
        default: [name]
        }
    }

    /// Shortest decimal text of a finite number (integers without a fraction).
    public static func number(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v)
    }

    static func usageError(_ name: String, _ why: String) -> ControlParseError {
        let args = usage.first { $0.name == name }?.arguments ?? ""
        return ControlParseError("\(name) \(why) (usage: \(name)\(args.isEmpty ? "" : " " + args))")
    }

    /// Untrusted text in a message: at most 40 characters, control characters replaced.
    public static func shown(_ text: String) -> String {
        let cut = String(text.unicodeScalars.prefix(40).map {
            $0.value < 0x20 || $0.value == 0x7F ? "?" : Character($0)
        })
        return text.unicodeScalars.count > 40 ? cut + "…" : cut
    }
}

/// A command that could not be read: what was wrong, for the log and the sender's ack.
public struct ControlParseError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A command at a time on the stream clock, for file mode (`tactus track --control 10:half`):
/// the operator's buttons replayed on a recording.
public struct TimedCommand: Sendable, Equatable {
    public var time: Double
    public var command: ControlCommand

    public init(time: Double, command: ControlCommand) {
        self.time = time
        self.command = command
    }

    /// "SECONDS:COMMAND [ARGS]", e.g. "10:half", "12.5:nudge -10", "3:range 80 100".
    public init(text: String) throws(ControlParseError) {
        guard let colon = text.firstIndex(of: ":"), let t = Double(text[..<colon]), t.isFinite, t >= 0 else {
            throw ControlParseError("'\(ControlCommand.shown(text))': expected SECONDS:COMMAND, "
                                    + "e.g. 10:half or 12.5:nudge -10")
        }
        time = t
        command = try ControlCommand(words: text[text.index(after: colon)...].split(separator: " ").map(String.init))
    }
}
