import Glibc

/// Quantiles of a measurement over the whole run (cost per period, latency per event) in fixed
/// memory: counts in logarithmic bins, so a quantile comes back within `resolution` (relative) of
/// the true value. Allocated once; `record` never allocates, however long the daemon runs.
/// (A window of raw values cost 0.5 MiB per measurement and forgot all but the last 65,536.)
/// One writer thread; read only after that writer has finished.
public final class QuantileHistogram: @unchecked Sendable {
    public let lowest: Double
    public let highest: Double
    private let logLowest: Double
    private let binsPerLog: Double
    private let counts: UnsafeMutableBufferPointer<UInt64>
    /// Values recorded since the start.
    public private(set) var count = 0
    /// The largest value recorded (exact).
    public private(set) var maximum = -Double.infinity

    /// Values at or below `lowest` count in the first bin, values above `highest` in the last.
    public init(lowest: Double, highest: Double, resolution: Double = 0.01) {
        precondition(lowest > 0 && highest > lowest && resolution > 0)
        self.lowest = lowest
        self.highest = highest
        logLowest = log(lowest)
        binsPerLog = 1 / log(1 + resolution)
        let bins = Int((log(highest) - logLowest) * binsPerLog) + 2
        counts = .allocate(capacity: bins)
        counts.initialize(repeating: 0)
    }

    deinit { counts.deallocate() }

    @inline(__always)
    public func record(_ value: Double) {
        let position = value > lowest ? (log(value) - logLowest) * binsPerLog + 1 : 0
        let bin = position.isFinite ? min(counts.count - 1, Int(position)) : (value > lowest ? counts.count - 1 : 0)
        counts[bin] &+= 1
        count += 1
        if value > maximum { maximum = value }
    }

    /// The value below which a fraction `p` of the recorded values lie (the geometric middle of
    /// its bin; `lowest` for the first bin, the maximum for the last); 0 when nothing was recorded.
    public func quantile(_ p: Double) -> Double {
        guard count > 0 else { return 0 }
        let rank = UInt64(min(Double(count - 1), max(0, (Double(count - 1) * p).rounded(.down))))
        var seen: UInt64 = 0
        for bin in 0..<counts.count {
            seen += counts[bin]
            if seen > rank {
                guard bin > 0 else { return lowest }
                if bin == counts.count - 1 { return maximum }  // at or beyond `highest`
                let middle = exp(logLowest + (Double(bin) - 0.5) / binsPerLog)
                return min(middle, maximum)
            }
        }
        return maximum
    }
}
