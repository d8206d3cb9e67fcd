import Glibc

/// The beat state space of the bar-pointer model (Krebs, Böck & Widmer, ISMIR 2015): one chain of
/// states per tempo, one state per frame of the beat interval; the position inside the beat runs
/// from 0 at the first state of a chain to (interval−1)/interval at its last.
public struct BeatStateSpace: Sendable, Equatable {
    /// Beat intervals (frames), one per tempo, ascending.
    public let intervals: [Int]
    public let stateCount: Int
    /// First and last state of each tempo's chain.
    public let firstStates: [Int]
    public let lastStates: [Int]
    /// Position inside the beat (0 ..< 1) and beat interval of every state.
    public let positions: [Double]
    public let stateIntervals: [Int]

    /// madmom `BeatStateSpace(min_interval, max_interval, num_intervals)`: every integer interval
    /// between the rounded bounds, or about `intervalCount` log-spaced ones.
    public init(minInterval: Double, maxInterval: Double, intervalCount: Int? = nil) {
        let lo = Int(minInterval.rounded(.toNearestOrEven)), hi = Int(maxInterval.rounded(.toNearestOrEven))
        var intervals = Array(lo...max(lo, hi))
        if let wanted = intervalCount, wanted < intervals.count {
            // Approach the wanted count iteratively, as quantisation merges neighbours.
            var n = wanted
            var chosen: [Int] = []
            while chosen.count < wanted {
                let a = log2(minInterval), b = log2(maxInterval)
                var set = Set<Int>()
                for i in 0..<n {
                    let e = n == 1 ? a : a + (b - a) * Double(i) / Double(n - 1)
                    set.insert(Int(pow(2.0, e).rounded(.toNearestOrEven)))
                }
                chosen = set.sorted()
                n += 1
            }
            intervals = chosen
        }
        self.intervals = intervals
        stateCount = intervals.reduce(0, +)
        var first: [Int] = [], last: [Int] = []
        var positions: [Double] = [], stateIntervals: [Int] = []
        positions.reserveCapacity(stateCount)
        var index = 0
        for interval in intervals {
            first.append(index)
            for k in 0..<interval {
                positions.append(Double(k) / Double(interval))
                stateIntervals.append(interval)
            }
            index += interval
            last.append(index - 1)
        }
        firstStates = first
        lastStates = last
        self.positions = positions
        self.stateIntervals = stateIntervals
    }
}

/// Tempo transitions at beat boundaries: probability ∝ exp(−λ·|to/from − 1|), entries at or below
/// machine epsilon dropped, rows normalised (madmom `exponential_transition`). Inside a beat the
/// pointer simply advances by one state.
public struct BeatTransitionModel: Sendable, Equatable {
    public let stateSpace: BeatStateSpace
    /// For tempo `j`, the tempi it can be entered from and with what probability, `from` ascending.
    public let tempoFrom: [[Int]]
    public let tempoProbability: [[Double]]

    public init(stateSpace: BeatStateSpace, lambda: Double) {
        self.stateSpace = stateSpace
        let n = stateSpace.intervals.count
        var matrix = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        let threshold = Double.ulpOfOne
        for i in 0..<n {
            var sum = 0.0
            for j in 0..<n {
                let ratio = Double(stateSpace.intervals[j]) / Double(stateSpace.intervals[i])
                var p = exp(-lambda * abs(ratio - 1))
                if p <= threshold { p = 0 }
                matrix[i][j] = p
                sum += p
            }
            for j in 0..<n { matrix[i][j] /= sum }
        }
        var from = [[Int]](repeating: [], count: n), prob = [[Double]](repeating: [], count: n)
        for j in 0..<n {
            for i in 0..<n where matrix[i][j] != 0 {
                from[j].append(i)
                prob[j].append(matrix[i][j])
            }
        }
        tempoFrom = from
        tempoProbability = prob
    }
}
