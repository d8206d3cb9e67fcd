import FoundationEssentials
import TactusCore

/// Commands as they travel (docs/control.md): OSC messages `/tactus/<name> [args]` and JSON lines
/// `{"cmd":"<name>", ...}`. Decoding reads untrusted bytes: sizes are bounded, every field is
/// type-checked, and what cannot be read is an error that says why, never a trap.
public enum ControlWire {
    /// Longest JSON command line (bytes, without the newline); longer lines are refused.
    public static let maxLineBytes = 1024
    /// Longest `id` a JSON command may carry (echoed in its ack).
    public static let maxIDBytes = 64
    public static let oscPrefix = "/tactus/"

    /// A command read from the wire, with the sender's request id when it gave one.
    public struct Decoded: Sendable, Equatable {
        public var command: ControlCommand
        /// The `id` field as JSON text (a string literal or an integer), echoed in the ack.
        public var id: String?
    }

    // MARK: OSC

    /// What an OSC packet asks for: one result per message (a bundle may hold several). A
    /// button's release (an argument-less command sent with a single 0, as TouchOSC and QLC+
    /// send on release) asks for nothing and is skipped.
    public static func decode(osc packet: OSCPacket, into out: inout [Result<ControlCommand, ControlParseError>]) {
        switch packet {
        case .bundle(_, let elements):
            for e in elements { decode(osc: e, into: &out) }
        case .message(let address, let arguments):
            guard address.hasPrefix(oscPrefix) else {
                out.append(.failure(ControlParseError(
                    "OSC address '\(ControlCommand.shown(address))' is not /tactus/<command>")))
                return
            }
            let name = String(address.dropFirst(oscPrefix.count))
            var words = [name]
            for a in arguments {
                switch a {
                case .int32(let v): words.append(String(v))
                case .float32(let v):
                    guard v.isFinite else {
                        out.append(.failure(ControlParseError("\(name): argument not finite")))
                        return
                    }
                    words.append(ControlCommand.number(Double(v)))
                case .string(let s): words.append(s)
                case .bool(let b): words.append(b ? "1" : "0")
                default: out.append(.failure(ControlParseError("\(name): unsupported argument type"))); return
                }
            }
            if argumentless(name), words.count == 2, let v = Double(words[1]) {
                if v == 0 { return }  // the button's release
                words.removeLast()   // the press
            }
            do { out.append(.success(try ControlCommand(words: words))) } catch { out.append(.failure(error)) }
        }
    }

    /// The OSC message for a command (`tactus ctl --osc`).
    public static func osc(_ command: ControlCommand) -> OSCPacket {
        let w = command.words
        let args: [OSCArgument] = switch command {
        case .nudge(let ms): [.float32(Float(ms))]
        case .range(let lo, let hi): [.float32(Float(lo)), .float32(Float(hi))]
        case .meter(let n), .phrase(let n): [.int32(Int32(clamping: n))]
        default: []
        }
        return .message(address: oscPrefix + w[0], arguments: args)
    }

    /// The ack an OSC sender gets back: `/tactus/ack s:command s:result s:detail`.
    public static func oscAck(command: String, result: String, detail: String) -> OSCPacket {
        .message(address: "/tactus/ack", arguments: [.string(command), .string(result), .string(detail)])
    }

    private static func argumentless(_ name: String) -> Bool {
        ["tap", "half", "double", "hold", "release", "downbeat", "reset"].contains(name)
    }

    // MARK: JSON lines

    private struct JSONCommand: Decodable {
        var cmd: String
        var ms: Double?
        var min: Double?
        var max: Double?
        var n: Int?
        var id: ID?

        enum ID: Decodable {
            case text(String), number(Int)
            init(from decoder: any Decoder) throws {
                let c = try decoder.singleValueContainer()
                if let n = try? c.decode(Int.self) { self = .number(n); return }
                self = .text(try c.decode(String.self))
            }
        }
    }

    /// Reads one JSON command line (without its newline): `{"cmd":"half"}`,
    /// `{"cmd":"nudge","ms":-10}`, `{"cmd":"range","min":80,"max":100}`, `{"cmd":"meter","n":3}`,
    /// each optionally with `"id"` (a string of at most 64 bytes, or an integer).
    public static func decode(jsonLine line: some Collection<UInt8>) -> Result<Decoded, ControlParseError> {
        guard line.count <= maxLineBytes else {
            return .failure(ControlParseError("command line longer than \(maxLineBytes) bytes"))
        }
        let parsed: JSONCommand
        do { parsed = try JSONDecoder().decode(JSONCommand.self, from: Data(line)) } catch {
            return .failure(ControlParseError("not a JSON command object ({\"cmd\":\"<command>\", ...})"))
        }
        var id: String?
        switch parsed.id {
        case .text(let s):
            guard s.utf8.count <= maxIDBytes else {
                return .failure(ControlParseError("id longer than \(maxIDBytes) bytes"))
            }
            id = quoted(s)
        case .number(let n): id = String(n)
        case nil: break
        }
        var words = [parsed.cmd]
        switch parsed.cmd {
        case "nudge": if let ms = parsed.ms { words.append(ControlCommand.number(ms)) }
        case "range":
            if parsed.min != nil || parsed.max != nil {
                guard let lo = parsed.min, let hi = parsed.max else {
                    return .failure(ControlParseError("range takes both min and max (BPM), or neither"))
                }
                words += [ControlCommand.number(lo), ControlCommand.number(hi)]
            }
        case "meter", "phrase": if let n = parsed.n { words.append(String(n)) }
        default: break
        }
        do { return .success(Decoded(command: try ControlCommand(words: words), id: id)) } catch {
            return .failure(error)
        }
    }

    /// The JSON line for a command (`tactus ctl`), with a request id; ends with a newline.
    public static func jsonLine(_ command: ControlCommand, id: String) -> String {
        var s = "{\"cmd\":\"\(command.name)\""
        switch command {
        case .nudge(let ms): s += ",\"ms\":\(ControlCommand.number(ms))"
        case .range(let lo, let hi): s += ",\"min\":\(ControlCommand.number(lo)),\"max\":\(ControlCommand.number(hi))"
        case .meter(let n), .phrase(let n): s += ",\"n\":\(n)"
        default: break
        }
        return s + ",\"id\":\(quoted(id))}\n"
    }

    public static func quoted(_ text: String) -> String { JSONString.quoted(text) }
}
