/// Tempo and phase from the operator's taps (issue 20): the median of the intervals between the
/// last taps (at most `capacity`) numbers the taps, and the least-squares line through them gives
/// the period and the beat grid. A tap more than `restartGap` after the previous
/// one (or not after it) starts over. Storage allocated in `init`; no allocation per tap.
public final class TapTempo {
    public static let capacity = 8
    /// A tap longer than this after the previous one starts a new series (s).
    public static let restartGap = 2.0
    /// Taps needed for a fit.
    public static let minimumTaps = 3

    private let times: UnsafeMutablePointer<Double>
    private let scratch: UnsafeMutablePointer<Double>
    /// Taps in the current series (at most `capacity`).
    public private(set) var count = 0

    public init() {
        times = .allocate(capacity: Self.capacity)
        times.initialize(repeating: 0, count: Self.capacity)
        scratch = .allocate(capacity: Self.capacity)
        scratch.initialize(repeating: 0, count: Self.capacity)
    }

    deinit {
        times.deallocate()
        scratch.deallocate()
    }

    /// Records a tap at `time` (s); returns the number of taps in the series.
    @discardableResult
    public func add(_ time: Double) -> Int {
        guard time.isFinite else { return count }
        if count > 0 {
            let previous = times[count - 1]
            if time - previous > Self.restartGap || time <= previous { count = 0 }
        }
        if count == Self.capacity {
            for i in 1..<Self.capacity { times[i - 1] = times[i] }
            count -= 1
        }
        times[count] = time
        count += 1
        return count
    }

    public func clear() { count = 0 }

    /// The fit once there are `minimumTaps`: a beat of the grid (near the last tap) and the
    /// period (s).
    public func fit() -> (beat: Double, period: Double)? {
        guard count >= Self.minimumTaps else { return nil }
        let n = count - 1
        for i in 0..<n { scratch[i] = times[i + 1] - times[i] }
        // Insertion sort: at most seven values.
        for i in 1..<n {
            let v = scratch[i]
            var j = i - 1
            while j >= 0 && scratch[j] > v { scratch[j + 1] = scratch[j]; j -= 1 }
            scratch[j + 1] = v
        }
        let median = n % 2 == 1 ? scratch[n / 2] : 0.5 * (scratch[n / 2 - 1] + scratch[n / 2])
        guard median > 0 else { return nil }
        // Each tap numbered by whole median periods back from the last one (a skipped or doubled
        // beat counts by its own number), then the least-squares line through (number, time):
        // its slope is the period, its value at the last tap's number the grid's phase. Over
        // four taps this halves the error of the median alone.
        let lastTap = times[count - 1]
        var sn = 0.0, st = 0.0
        for i in 0..<count {
            scratch[i] = ((times[i] - lastTap) / median).rounded()
            sn += scratch[i]
            st += times[i]
        }
        let meanN = sn / Double(count), meanT = st / Double(count)
        var snn = 0.0, snt = 0.0
        for i in 0..<count {
            let dn = scratch[i] - meanN
            snn += dn * dn
            snt += dn * (times[i] - meanT)
        }
        var period = snn > 0 ? snt / snn : median
        // Only a refinement: a slope far from the median (taps all over the place) is not used.
        if !(abs(period / median - 1) < 0.25) { period = median }
        return (meanT - meanN * period, period)
    }
}
