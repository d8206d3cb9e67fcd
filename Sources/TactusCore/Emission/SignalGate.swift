import Foundation

/// Decides whether the input carries music worth tracking: within the last `gateHold` seconds the
/// level of some hop must have reached its threshold, and the activation must have risen above
/// its threshold at least `gateOnsets` times. Closed in silence and in steady
/// noise, where the tracker is told the frame carries no evidence and no beat leaves.
public final class SignalGate {
    public let config: EmissionConfig
    private let holdFrames: Int
    /// Frames of the last `gateOnsets` rising crossings of the activation threshold (a ring): a
    /// stray spike in noise must not open the gate, music has onsets again and again.
    private let crossings: UnsafeMutablePointer<Int>
    private let onsets: Int
    private var crossingIndex = 0
    private var frame = 0
    private var above = false
    private var framesSinceLoud: Int
    public private(set) var isOpen = false
    /// Level of the newest hop (dBFS).
    public private(set) var level: Double = -.infinity

    public init(config: EmissionConfig, frameRate: Double) {
        self.config = config
        holdFrames = max(1, Int((config.gateHold * frameRate).rounded()))
        onsets = max(1, config.gateOnsets)
        crossings = .allocate(capacity: onsets)
        crossings.initialize(repeating: Int.min / 2, count: onsets)
        framesSinceLoud = holdFrames
    }

    deinit { crossings.deallocate() }

    public func reset() {
        crossings.update(repeating: Int.min / 2, count: onsets)
        crossingIndex = 0
        frame = 0
        above = false
        framesSinceLoud = holdFrames
        isOpen = false
        level = -.infinity
    }

    /// `hop`: the newest `hop` samples; returns whether the gate is open for this frame.
    public func update(hop: UnsafeBufferPointer<Float>, activation: Float) -> Bool {
        var energy: Double = 0
        for x in hop where x.isFinite { energy += Double(x) * Double(x) }
        level = 10 * log10(max(energy / Double(max(hop.count, 1)), 1e-20))
        let isAbove = activation.isFinite && Double(activation) >= config.gateActivation
        if isAbove && !above {
            crossings[crossingIndex] = frame
            crossingIndex = (crossingIndex + 1) % onsets
        }
        above = isAbove
        // The oldest of the last `gateOnsets` crossings must lie within the hold.
        let recentOnsets = frame - crossings[crossingIndex] < holdFrames
        frame += 1
        if level >= config.gateLevel {
            framesSinceLoud = 0
        } else if framesSinceLoud < holdFrames {
            framesSinceLoud += 1
        }
        // A threshold of 0 asks nothing of the activation.
        let active = config.gateActivation <= 0 || recentOnsets
        isOpen = framesSinceLoud < holdFrames && active
        return isOpen
    }
}
