import TactusCore
import TactusIO
import TactusWeb

/// What became of each operator command (issue 20; docs/control.md): a `control` notice on every
/// line output, a log line, and an ack to whoever sent it (the socket client, the OSC sender).
/// Runs on the output thread.
extension EventWriter {
    func reportControlOutcomes() {
        guard let inbox = controlInbox else { return }
        while let (outcome, origin) = inbox.takeOutcome() {
            let fields = Self.fields(outcome, origin: origin)
            let message = Self.message(outcome)
            logControl(message)
            post(DaemonNotice(kind: "control", message: message, fields: fields))
            switch origin {
            case .socket(let client, let id):
                var ack = "{\"v\":1,\"event\":\"ack\"" + fields.map { ",\"\($0.0)\":\($0.1)" }.joined()
                if let id { ack += ",\"id\":\(id)" }
                socket?.write(ack + ",\"message\":\(JSONString.quoted(message))}\n", toClient: client)
            case .osc(let address):
                controlServer?.replyOSC(ControlWire.oscAck(command: outcome.request.command.name,
                                                           result: Self.resultName(outcome.result), detail: message),
                                        to: address)
            case .web(let client, let id):
                var ack = "{\"v\":1,\"event\":\"ack\"" + fields.map { ",\"\($0.0)\":\($0.1)" }.joined()
                if let id { ack += ",\"id\":\(id)" }
                webHub?.deliver(ack + ",\"message\":\(JSONString.quoted(message))}", to: client)
            case .local:
                break
            }
        }
    }

    static func resultName(_ r: ControlResult) -> String {
        switch r {
        case .applied: "applied"
        case .pending: "pending"
        case .rejected: "rejected"
        }
    }

    static func rangeSourceName(_ s: StageControl.RangeSource) -> String {
        switch s {
        case .configured: "configured"
        case .operator: "operator"
        case .octave: "octave"
        }
    }

    /// The outcome as JSON fields (values already encoded).
    static func fields(_ o: ControlOutcome, origin: ControlOrigin) -> [(String, String)] {
        var f: [(String, String)] = [
            ("command", JSONString.quoted(o.request.command.words.joined(separator: " "))),
            ("result", JSONString.quoted(resultName(o.result))),
        ]
        switch o.result {
        case .rejected(let why): f.append(("reason", JSONString.quoted(why.description)))
        case .pending(let taps): f.append(("taps", "\(taps)"))
        case .applied: break
        }
        f += [
            ("tempo_before", String(cFormat: "%.2f", o.tempoBefore)),
            ("tempo_after", String(cFormat: "%.2f", o.tempoAfter)),
            ("range_min", String(cFormat: "%.2f", o.rangeLow)), ("range_max", String(cFormat: "%.2f", o.rangeHigh)),
            ("range_source", JSONString.quoted(rangeSourceName(o.rangeSource))),
            ("held", o.holding ? "true" : "false"), ("meter", "\(o.meter)"), ("phrase_length", "\(o.phrase)"),
            ("nudge_ms", String(cFormat: "%.1f", o.nudge)),
        ]
        let source = switch origin {
        case .socket: "socket"
        case .osc(let a): "osc \(a.description)"
        case .web: "web"
        case .local: "local"
        }
        f.append(("source", JSONString.quoted(source)))
        return f
    }

    /// One line for the log and the notice: what the command did.
    static func message(_ o: ControlOutcome) -> String {
        let name = o.request.command.words.joined(separator: " ")
        switch o.result {
        case .rejected(let why): return "control: \(name) rejected: \(why)"
        case .pending(let taps): return "control: tap \(taps) of \(TapTempo.minimumTaps)"
        case .applied: break
        }
        var parts: [String] = []
        if abs(o.tempoAfter - o.tempoBefore) >= 0.05 && o.tempoAfter > 0 {
            parts.append(String(cFormat: "tempo %.1f → %.1f BPM", o.tempoBefore, o.tempoAfter))
        } else if o.tempoAfter > 0 {
            parts.append(String(cFormat: "tempo %.1f BPM", o.tempoAfter))
        }
        if o.rangeSource != .configured {
            parts.append(String(cFormat: "range %.1f-%.1f BPM", o.rangeLow, o.rangeHigh)
                         + (o.rangeSource == .octave ? " (until release)" : ""))
        }
        if o.holding { parts.append("held") }
        if o.nudge != 0 { parts.append(String(cFormat: "nudge %+.0f ms", o.nudge)) }
        parts.append("meter \(o.meter), phrase \(o.phrase) bars")
        return "control: \(name) applied: " + parts.joined(separator: ", ")
    }
}
