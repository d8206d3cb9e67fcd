import Foundation

/// Decides whether the input carries music worth tracking: within the last `gateHold` seconds the
/// level of some hop and the activation of some frame must have reached their thresholds. Closed in silence and in steady
/// noise, where the tracker is told the frame carries no evidence and no beat leaves.
public struct SignalGate: Sendable {
    public let config: EmissionConfig
    private let holdFrames: Int
    private var framesSincePeak: Int
    private var framesSinceLoud: Int
    public private(set) var isOpen = false
    /// Level of the newest hop (dBFS).
    public private(set) var level: Double = -.infinity

    public init(config: EmissionConfig, frameRate: Double) {
        self.config = config
        holdFrames = max(1, Int((config.gateHold * frameRate).rounded()))
        framesSincePeak = holdFrames
        framesSinceLoud = holdFrames
    }

    public mutating func reset() {
        framesSincePeak = holdFrames
        framesSinceLoud = holdFrames
        isOpen = false
        level = -.infinity
    }

    /// `hop`: the newest `hop` samples; returns whether the gate is open for this frame.
    public mutating func update(hop: UnsafeBufferPointer<Float>, activation: Float) -> Bool {
        var energy: Double = 0
        for x in hop where x.isFinite { energy += Double(x) * Double(x) }
        level = 10 * log10(max(energy / Double(max(hop.count, 1)), 1e-20))
        if Double(activation) >= config.gateActivation && activation.isFinite {
            framesSincePeak = 0
        } else if framesSincePeak < holdFrames {
            framesSincePeak += 1
        }
        if level >= config.gateLevel {
            framesSinceLoud = 0
        } else if framesSinceLoud < holdFrames {
            framesSinceLoud += 1
        }
        isOpen = framesSinceLoud < holdFrames && framesSincePeak < holdFrames
        return isOpen
    }
}
