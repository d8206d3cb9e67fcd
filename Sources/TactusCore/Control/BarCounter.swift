/// A beat's place in bars and phrases.
public struct BarPosition: Sendable, Equatable, BitwiseCopyable {
    /// 1 ... meter.
    public var beatInBar: Int
    /// Bar count, from 1.
    public var bar: Int
    /// 1 ... phrase length.
    public var phraseBar: Int
    public var source: BarSource

    public init(beatInBar: Int, bar: Int, phraseBar: Int, source: BarSource) {
        self.beatInBar = beatInBar; self.bar = bar; self.phraseBar = phraseBar; self.source = source
    }
}

/// Counts beats into bars and phrases (issue 20). Without an operator's `downbeat` the first beat
/// counted is beat 1 of bar 1 (`BarSource.count`). A downbeat makes the last beat counted beat 1
/// of a bar and of a phrase when it lies no more than a quarter beat before the command (or after
/// it: a beat sent ahead), else the next beat counted; bars count on from there. A new meter or
/// phrase length takes effect at the next beat. The meter counts the beats sent, at whatever
/// metrical level (`changeLevel`). Pure, no allocation.
public struct BarCounter: Sendable, Equatable {
    public static let defaultMeter = 4
    public static let defaultPhrase = 4
    public static let maxMeter = 64
    public static let maxPhrase = 256

    public private(set) var meter: Int
    public private(set) var phrase: Int
    /// The last beat counted and its time (s).
    public private(set) var last: BarPosition?
    public private(set) var lastBeatTime = -Double.infinity
    public private(set) var source = BarSource.count
    /// Phrases begun so far (the phrase of the last beat counted, from 1; 0 before the first).
    public private(set) var phraseCount = 0
    private var downbeatPending = false

    public init(meter: Int = BarCounter.defaultMeter, phrase: Int = BarCounter.defaultPhrase) {
        self.meter = min(max(meter, 1), Self.maxMeter)
        self.phrase = min(max(phrase, 1), Self.maxPhrase)
    }

    /// Counts the next beat (sounding at `beatTime`, s).
    public mutating func next(beatTime: Double) -> BarPosition {
        let p: BarPosition
        if let l = last {
            if downbeatPending {
                p = BarPosition(beatInBar: 1, bar: l.bar + 1, phraseBar: 1, source: source)
            } else if l.beatInBar >= meter {
                p = BarPosition(beatInBar: 1, bar: l.bar + 1, phraseBar: l.phraseBar >= phrase ? 1 : l.phraseBar + 1,
                                source: source)
            } else {
                p = BarPosition(beatInBar: l.beatInBar + 1, bar: l.bar, phraseBar: min(l.phraseBar, phrase),
                                source: source)
            }
        } else {
            p = BarPosition(beatInBar: 1, bar: 1, phraseBar: 1, source: source)
        }
        downbeatPending = false
        if p.beatInBar == 1 && p.phraseBar == 1 { phraseCount += 1 }
        last = p
        lastBeatTime = beatTime
        return p
    }

    /// The operator's downbeat at `time` (s), with the beat period `period` (s).
    public mutating func downbeat(at time: Double, period: Double) {
        source = .operator
        if let l = last, lastBeatTime >= time - period / 4 {
            if l.beatInBar != 1 || l.phraseBar != 1 { phraseCount += 1 }
            last = BarPosition(beatInBar: 1, bar: l.beatInBar == 1 ? l.bar : l.bar + 1, phraseBar: 1, source: .operator)
            downbeatPending = false
        } else {
            downbeatPending = true
        }
    }

    /// The beats change level (the operator's `half` or `double`) right after the last beat
    /// counted; the meter stays, counted in beats of the new level. The last beat is relabelled
    /// so that bar lines stay on bar lines: after halving (the beats kept are the odd ones, 1 and
    /// 3), beat b becomes (b+1)/2 (an even b, just before a kept beat, b/2); after doubling,
    /// 2b−1 (wrapped into the bar).
    public mutating func changeLevel(halving: Bool) {
        guard var l = last else { return }
        if halving {
            l.beatInBar = l.beatInBar % 2 == 1 ? (l.beatInBar + 1) / 2 : l.beatInBar / 2
        } else {
            l.beatInBar = (2 * l.beatInBar - 2) % meter + 1
        }
        last = l
    }

    /// False (nothing changed) outside 1 ... `maxMeter`.
    public mutating func setMeter(_ n: Int) -> Bool {
        guard (1...Self.maxMeter).contains(n) else { return false }
        meter = n
        return true
    }

    /// False (nothing changed) outside 1 ... `maxPhrase`.
    public mutating func setPhrase(_ n: Int) -> Bool {
        guard (1...Self.maxPhrase).contains(n) else { return false }
        phrase = n
        return true
    }

    /// Starts counting again from the next beat, keeping meter and phrase length (a restarted
    /// stream: the operator's downbeat no longer applies).
    public mutating func restartCount() {
        self = BarCounter(meter: meter, phrase: phrase)
    }
}
