/// A MIDI clock message with its time on the stream clock (s).
public struct MIDIClockEvent: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case start                       // 0xFA: the next tick is the first beat
        case tick                        // 0xF8: 24 per quarter note
        case stop                        // 0xFC
        case songPosition(Int)           // 0xF2: position in 16th notes, before a continue
        case `continue`                  // 0xFB
    }

    public var kind: Kind
    public var time: Double

    public init(kind: Kind, time: Double) {
        self.kind = kind
        self.time = time
    }

    /// The bytes of the message on the wire.
    public var bytes: [UInt8] {
        switch kind {
        case .start: return [0xFA]
        case .tick: return [0xF8]
        case .stop: return [0xFC]
        case .continue: return [0xFB]
        case .songPosition(let p):
            let v = max(0, min(p, 0x3FFF))
            return [0xF2, UInt8(v & 0x7F), UInt8(v >> 7)]
        }
    }
}

/// MIDI clock (24 ticks per beat) driven by the tracker's beats, not by detections: a phase-locked
/// tick grid that each predicted beat pulls towards its time. The period changes by at most
/// `maxChangePerBeat` per beat, so followers stay locked; Start falls on a beat; a phase error
/// beyond a quarter beat re-aligns with Song Position Pointer and Continue; so does a song
/// position that disagrees with the operator's bars (issue 20: followers' bar 1 is the
/// operator's downbeat); Stop when the beats stop (no beat for two periods) or on `stop(at:)`.
/// Pure: times in, timed messages out.
public struct MIDIClockGenerator: Sendable {
    public static let ticksPerBeat = 24
    /// Largest relative change of the tick period per beat.
    public let maxChangePerBeat: Double
    public private(set) var running = false
    /// Seconds per tick.
    public private(set) var tickPeriod = 0.5 / 24
    /// Time of the next tick to emit, and ticks emitted since Start.
    private var nextTick = 0.0
    private var ticks = 0
    private var lastBeat = -Double.infinity
    private var pending: [MIDIClockEvent] = []

    public init(maxChangePerBeat: Double = 0.02) {
        self.maxChangePerBeat = maxChangePerBeat
    }

    /// The song position (in beats) of a beat in bar `bar` (from 1), beat `beatInBar` (from 1) of
    /// `meter`, wrapped to whole bars so that it fits Song Position's 14 bits of 16th notes.
    public static func songBeat(bar: Int, beatInBar: Int, meter: Int) -> Int? {
        guard meter > 0, bar > 0, (1...meter).contains(beatInBar) else { return nil }
        let bars = max(1, 0x3FFF / (4 * meter))
        return ((bar - 1) % bars) * meter + beatInBar - 1
    }

    /// A beat from the emitter (its time and tempo); only predicted beats steer the clock.
    /// `songBeat`: its song position in beats when the operator set the bars (`songBeat(...)`).
    public mutating func beat(at time: Double, tempo: Double, predicted: Bool, songBeat: Int? = nil) {
        guard predicted, tempo > 0 else { return }
        let target = 60 / tempo / Double(Self.ticksPerBeat)
        lastBeat = time
        guard running else {
            running = true
            tickPeriod = target
            nextTick = time
            if let songBeat, songBeat > 0 {
                // Start mid-song: followers go to the position and play on from this beat.
                ticks = songBeat * Self.ticksPerBeat
                pending.append(MIDIClockEvent(kind: .songPosition(songBeat * 4), time: time))
                pending.append(MIDIClockEvent(kind: .continue, time: time))
            } else {
                // Start on this beat: Start just before its tick.
                ticks = 0
                pending.append(MIDIClockEvent(kind: .start, time: time))
            }
            return
        }
        // The tick of the grid nearest to this beat should fall on it.
        let ticksAhead = ((time - nextTick) / tickPeriod).rounded()
        let gridBeatTick = ticks + Int(ticksAhead)
        let beatsIn = (Double(gridBeatTick) / Double(Self.ticksPerBeat)).rounded()
        let onBeatTick = Int(beatsIn) * Self.ticksPerBeat
        let gridTime = nextTick + Double(onBeatTick - ticks) * tickPeriod
        let error = time - gridTime
        let gridBeat = onBeatTick / Self.ticksPerBeat
        if abs(error) > 0.25 * 60 / tempo || (songBeat.map { $0 != gridBeat } ?? false) {
            // Lost phase, or the operator moved bar 1: stop, say where we are, continue on this beat.
            let beatPosition = songBeat ?? gridBeat
            let position = beatPosition * 4
            pending.append(MIDIClockEvent(kind: .stop, time: max(nextTick - tickPeriod, time - 0.001)))
            pending.append(MIDIClockEvent(kind: .songPosition(position), time: time))
            pending.append(MIDIClockEvent(kind: .continue, time: time))
            nextTick = time
            ticks = beatPosition * Self.ticksPerBeat
            tickPeriod = target
            return
        }
        // Spread the correction over the next beat: the period that reaches the beat after next
        // on time, pulled towards the tempo, bounded per beat.
        let remaining = Double(onBeatTick + Self.ticksPerBeat - ticks)
        var period = remaining > 0 ? (time + 60 / tempo - nextTick) / remaining : target
        period = 0.5 * period + 0.5 * target
        tickPeriod = min(max(period, tickPeriod * (1 - maxChangePerBeat)), tickPeriod * (1 + maxChangePerBeat))
    }

    /// When the next message falls due (s), or nil when none is pending and the clock is stopped.
    public var nextEventTime: Double? {
        let p = pending.map(\.time).min()
        guard running else { return p }
        return min(p ?? nextTick, nextTick)
    }

    /// Explicit stop (loss of lock, shutdown).
    public mutating func stop(at time: Double) {
        guard running else { return }
        running = false
        pending.append(MIDIClockEvent(kind: .stop, time: time))
    }

    /// Every message due up to `time`, in order. Stops by itself when no beat came for two periods.
    public mutating func advance(to time: Double) -> [MIDIClockEvent] {
        var out = pending.filter { $0.time <= time }
        pending.removeAll { $0.time <= time }
        while running && nextTick <= time {
            if nextTick - lastBeat > 2 * Double(Self.ticksPerBeat) * tickPeriod {
                running = false
                out.append(MIDIClockEvent(kind: .stop, time: nextTick))
                break
            }
            out.append(MIDIClockEvent(kind: .tick, time: nextTick))
            ticks += 1
            nextTick += tickPeriod
        }
        // By time; at equal times the transport messages go before the tick (Start, then the tick
        // that is the first beat).
        return out.sorted { ($0.time, $0.kind == .tick ? 1 : 0) < ($1.time, $1.kind == .tick ? 1 : 0) }
    }
}
