import Foundation

/// Decides whether the input carries music worth tracking: within the last `gateHold` seconds the
/// level of some hop must have reached its threshold, and the activation must have risen above
/// its threshold at least twice. Closed in silence and in steady
/// noise, where the tracker is told the frame carries no evidence and no beat leaves.
public struct SignalGate: Sendable {
    public let config: EmissionConfig
    private let holdFrames: Int
    /// Frames since the last two rising crossings of the activation threshold: one stray spike
    /// in noise must not open the gate, music has onsets again and again.
    private var framesSincePeak: Int
    private var framesSincePreviousPeak: Int
    private var above = false
    private var framesSinceLoud: Int
    public private(set) var isOpen = false
    /// Level of the newest hop (dBFS).
    public private(set) var level: Double = -.infinity

    public init(config: EmissionConfig, frameRate: Double) {
        self.config = config
        holdFrames = max(1, Int((config.gateHold * frameRate).rounded()))
        framesSincePeak = holdFrames
        framesSincePreviousPeak = holdFrames
        framesSinceLoud = holdFrames
    }

    public mutating func reset() {
        framesSincePeak = holdFrames
        framesSincePreviousPeak = holdFrames
        above = false
        framesSinceLoud = holdFrames
        isOpen = false
        level = -.infinity
    }

    /// `hop`: the newest `hop` samples; returns whether the gate is open for this frame.
    public mutating func update(hop: UnsafeBufferPointer<Float>, activation: Float) -> Bool {
        var energy: Double = 0
        for x in hop where x.isFinite { energy += Double(x) * Double(x) }
        level = 10 * log10(max(energy / Double(max(hop.count, 1)), 1e-20))
        let isAbove = activation.isFinite && Double(activation) >= config.gateActivation
        if framesSincePeak < holdFrames { framesSincePeak += 1 }
        if framesSincePreviousPeak < holdFrames { framesSincePreviousPeak += 1 }
        if isAbove && !above {
            framesSincePreviousPeak = framesSincePeak
            framesSincePeak = 0
        }
        above = isAbove
        if level >= config.gateLevel {
            framesSinceLoud = 0
        } else if framesSinceLoud < holdFrames {
            framesSinceLoud += 1
        }
        // A threshold of 0 asks nothing of the activation.
        let active = config.gateActivation <= 0 || framesSincePreviousPeak < holdFrames
        isOpen = framesSinceLoud < holdFrames && active
        return isOpen
    }
}
