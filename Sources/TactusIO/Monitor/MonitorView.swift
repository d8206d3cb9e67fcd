import FoundationEssentials

/// The fields of a daemon JSON line (docs/events.md) that `tactus monitor` shows. A number that
/// is present but unusable (a string, NaN, out of its range, too large for an Int) is `.invalid`:
/// the socket is a trust boundary, and such a value must show as "—", never reach a conversion
/// that traps.
public struct MonitorEvent: Decodable, Equatable, Sendable {
    public enum Field<Value: Equatable & Sendable>: Equatable, Sendable {
        case absent, invalid, value(Value)
    }

    public var event: String?
    public var predicted: Bool?
    /// BPM, finite, in (0, 1000].
    public var tempo: Field<Double> = .absent
    /// In [0, 1].
    public var confidence: Field<Double> = .absent
    /// Counts: integers in 0...Int.max.
    public var beats: Field<Int> = .absent
    public var xruns: Field<Int> = .absent
    public var dropped: Field<Int> = .absent
    public var kind: String?
    public var message: String?
    /// Stream time of a notice (s), finite and within ±1e9.
    public var time: Field<Double> = .absent
    /// The operator's mode (status lines): following, held or range-locked.
    public var mode: Field<String> = .absent
    /// The beat's place in its bar (beats and status lines): 1 ... meter ≤ 64, bar count.
    public var beatInBar: Field<Int> = .absent
    public var meter: Field<Int> = .absent
    public var bar: Field<Int> = .absent

    public init() {}

    /// One line without its newline; nil when it is not a JSON object.
    public init?(line: some Collection<UInt8>) {
        guard let event = try? JSONDecoder().decode(MonitorEvent.self, from: Data(line)) else { return nil }
        self = event
    }

    private enum Key: String, CodingKey {
        case event, predicted, tempo, confidence, beats, xruns, dropped, kind, message, time, mode, meter, bar
        case beatInBar = "beat_in_bar"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        // Wrongly typed fields are treated as absent (strings, flags) or invalid (numbers).
        event = try? c.decodeIfPresent(String.self, forKey: .event)
        predicted = try? c.decodeIfPresent(Bool.self, forKey: .predicted)
        kind = try? c.decodeIfPresent(String.self, forKey: .kind)
        message = try? c.decodeIfPresent(String.self, forKey: .message)
        tempo = Self.number(c, .tempo) { $0 > 0 && $0 <= 1000 }
        confidence = Self.number(c, .confidence) { $0 >= 0 && $0 <= 1 }
        time = Self.number(c, .time) { abs($0) <= 1e9 }
        beats = Self.count(c, .beats)
        xruns = Self.count(c, .xruns)
        dropped = Self.count(c, .dropped)
        bar = Self.count(c, .bar)
        meter = Self.count(c, .meter)
        beatInBar = Self.count(c, .beatInBar)
        if case .value(let m) = meter, m > 64 { meter = .invalid }
        if case .value(let b) = beatInBar, b > 64 { beatInBar = .invalid }
        if c.contains(.mode) {
            let m = try? c.decode(String.self, forKey: .mode)
            mode = m.map { ["following", "held", "range-locked"].contains($0) } == true ? .value(m!) : .invalid
        }
    }

    private static func number(_ c: KeyedDecodingContainer<Key>, _ key: Key,
                               valid: (Double) -> Bool) -> Field<Double> {
        guard c.contains(key) else { return .absent }
        guard let v = try? c.decode(Double.self, forKey: key), v.isFinite, valid(v) else { return .invalid }
        return .value(v)
    }

    private static func count(_ c: KeyedDecodingContainer<Key>, _ key: Key) -> Field<Int> {
        guard c.contains(key) else { return .absent }
        if let v = try? c.decode(Int.self, forKey: key) { return v >= 0 ? .value(v) : .invalid }
        // 3.0 or 1e3 are counts too; Int(exactly:) refuses fractions, NaN and what overflows Int.
        guard let d = try? c.decode(Double.self, forKey: key), let v = Int(exactly: d), v >= 0 else {
            return .invalid
        }
        return .value(v)
    }
}

/// The monitor's one-line display, redrawn in place, fed with the raw bytes of the daemon's
/// socket. Everything that comes in is checked here, so that the terminal side only copies bytes.
public struct MonitorView: Sendable {
    /// A line longer than this is dropped up to its newline: the pending buffer never grows past it.
    public static let maxLineBytes = 64 * 1024
    /// Notices held for `takeNotices()`; older ones are dropped when nobody takes them.
    public static let maxNotices = 256

    /// nil: the last value received was unusable; shown as "—" until a good one comes.
    public private(set) var tempo: Double? = 0
    public private(set) var confidence: Double? = 0
    /// The operator's mode and the last beat's place in its bar (0: not known yet).
    public private(set) var mode: String? = "following"
    public private(set) var beatInBar: Int? = 0
    public private(set) var meter: Int? = 0
    public private(set) var bar: Int? = 0
    public private(set) var beats: Int? = 0
    public private(set) var xruns: Int? = 0
    public private(set) var dropped: Int? = 0
    /// CLOCK_MONOTONIC ns of the last beat line; nil before the first.
    public private(set) var lastBeat: Int64?
    public private(set) var lastPredicted = false
    /// From lock/unlock notices; nil until the first (then the confidence decides).
    public private(set) var locked: Bool?
    /// Lines longer than `maxLineBytes`, and lines that are not JSON objects.
    public var overlongLines: Int { assembler.overlongLines }
    public private(set) var unreadableLines = 0

    private var assembler = LineAssembler(maxLineBytes: MonitorView.maxLineBytes)
    private var notices: [String] = []

    public init() {}

    /// Bytes as they come from the socket, in any pieces: complete lines update the view.
    public mutating func ingest(_ bytes: some Collection<UInt8>, now: Int64 = MonotonicClock.nanos()) {
        var lines = assembler
        lines.feed(Array(bytes)[...]) { line($0, now: now) }
        assembler = lines
    }

    private mutating func line(_ bytes: some Collection<UInt8>, now: Int64) {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return }
        guard let event = MonitorEvent(line: bytes) else { unreadableLines += 1; return }
        update(event, now: now)
    }

    public mutating func takeNotices() -> [String] {
        defer { notices.removeAll() }
        return notices
    }

    public mutating func update(_ e: MonitorEvent, now: Int64 = MonotonicClock.nanos()) {
        switch e.event {
        case "beat":
            lastBeat = now
            lastPredicted = e.predicted ?? false
            Self.apply(e.tempo, to: &tempo)
            Self.apply(e.beatInBar, to: &beatInBar)
            Self.apply(e.meter, to: &meter)
            Self.apply(e.bar, to: &bar)
        case "status":
            Self.apply(e.mode, to: &mode)
            Self.apply(e.tempo, to: &tempo)
            Self.apply(e.confidence, to: &confidence)
            Self.apply(e.beats, to: &beats)
            Self.apply(e.xruns, to: &xruns)
            Self.apply(e.dropped, to: &dropped)
        case "notice" where e.kind == "lock" || e.kind == "unlock":
            locked = e.kind == "lock"
            fallthrough
        case "notice":
            if notices.count >= Self.maxNotices { notices.removeFirst() }
            let time = if case .value(let t) = e.time { String(cFormat: "%9.2f s  ", t) } else { "        — s  " }
            notices.append(time + Self.printable(e.kind ?? "?", limit: 40) + ": "
                           + Self.printable(e.message ?? "", limit: 1000))
        default: break
        }
    }

    private static func apply<T>(_ field: MonitorEvent.Field<T>, to value: inout T?) {
        switch field {
        case .absent: break
        case .invalid: value = nil
        case .value(let v): value = v
        }
    }

    /// Text from the socket goes to a terminal: control characters (escape sequences) are
    /// replaced, and the length is capped.
    static func printable(_ text: String, limit: Int) -> String {
        var out = ""
        for (n, scalar) in text.unicodeScalars.enumerated() {
            if n == limit { out += "…"; break }
            let isControl = scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
            out.unicodeScalars.append(isControl ? "\u{FFFD}" : scalar)
        }
        return out
    }

    public func render(now: Int64 = MonotonicClock.nanos()) -> String {
        // Doubles, so that no clock value can overflow the subtraction.
        let sinceBeat = lastBeat.map { max(0, (Double(now) - Double($0)) / 1e9) }
        let flash = if let s = sinceBeat, s < 0.12 {
            lastPredicted ? "\u{1B}[42m BEAT \u{1B}[0m" : "\u{1B}[43m beat \u{1B}[0m"
        } else {
            "      "
        }
        let full = confidence.map { min(20, max(0, Int(($0 * 20).rounded()))) } ?? 0
        let bar = String(repeating: "█", count: full) + String(repeating: "·", count: 20 - full)
        let lock = (locked ?? ((confidence ?? 0) >= 0.3)) ? "locked  " : "unlocked"
        // Beat phase, extrapolated from the last beat at the tempo: a dot moving over 8 cells.
        var cell = -1
        if let t = tempo, t > 0, let s = sinceBeat {
            let beats = s * t / 60
            let fraction = beats - beats.rounded(.down)
            if fraction.isFinite { cell = min(7, max(0, Int(fraction * 8))) }
        }
        let phase = (0..<8).map { $0 == cell ? "●" : "·" }.joined()
        let bpm = tempo.map { String(cFormat: " %6.1f BPM  phase ", $0) } ?? "      — BPM  phase "
        let conf = confidence.map { String(cFormat: " %.2f  ", $0) } ?? "    —  "
        let counts = "  beats \(Self.count(beats))  xruns \(Self.count(xruns))  dropped \(Self.count(dropped))   "
        let skipped = overlongLines &+ unreadableLines
        let place = if let b = beatInBar, let m = meter, let n = self.bar, b > 0, m > 0 {
            "  bar \(n) beat \(b)/\(m)"
        } else {
            beatInBar == nil || meter == nil || self.bar == nil ? "  bar —" : ""
        }
        return flash + bpm + phase + "  confidence " + bar + conf + lock + "  " + (mode ?? "—") + place + counts
            + (skipped > 0 ? "bad lines \(skipped)   " : "")
    }

    private static func count(_ n: Int?) -> String { n.map { "\($0)" } ?? "—" }
}
