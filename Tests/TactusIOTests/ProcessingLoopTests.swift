import CAllocCounter
import TactusCore
import TactusIO
import Testing

@Suite struct ProcessingLoopTests {
    /// The processing thread's work per period (ring read, resampling, core, event queue) allocates
    /// nothing once running, at the processing rate and at another device rate alike.
    @Test(arguments: [44_100, 48_000])
    func noAllocationPerPeriod(deviceRate: Int) throws {
        var config = TactusConfig()
        config.emission.gateActivation = 0
        let channel = CaptureChannel(capacitySamples: 1 << 20, periods: 4096)
        let loop = ProcessingLoop(pipeline: try BeatPipeline(config: config, model: nil), channel: channel)
        channel.sampleRate.store(deviceRate, ordering: .releasing)
        let signal = ExampleSignal(duration: 12, sampleRate: Double(deviceRate))
        let period = deviceRate / 100
        func push(_ k: Int) {
            signal.samples.withUnsafeBufferPointer { all in
                channel.push(UnsafeBufferPointer(rebasing: all[(k * period)..<((k + 1) * period)]),
                             stamp: CaptureStamp(firstSample: k * period, frames: period,
                                                 hostNanos: Int64(k) * 10_000_000, gapBefore: 0))
            }
        }
        for k in 0..<200 { push(k) }
        loop.drain()  // warm-up: the resampler and the first frames
        for k in 200..<1100 { push(k) }
        tactus_alloc_counting_begin()
        loop.drain()
        let allocations = tactus_alloc_counting_end()
        if tactus_alloc_counter_available() != 0 { #expect(allocations == 0) }
        #expect(loop.hops.load(ordering: .relaxed) == 1100)
        #expect(loop.events.available > 10, "beats came out")
    }

    /// 20 s of the 120 BPM example groove, in 441-sample periods, through a reactive processing
    /// loop: `gapBefore(k)` is the gap reported before period k, or nil to leave the period out;
    /// the loop drains after period k when `drainAfter(k + 1)`. Returns the beat times.
    func streamExample(ringSamples: Int, gapBefore: (Int) -> Int?, drainAfter: (Int) -> Bool) throws
        -> (beats: [Double], channel: CaptureChannel) {
        var config = TactusConfig()
        config.emission.mode = .reactive
        let channel = CaptureChannel(capacitySamples: ringSamples, periods: 8192)
        let loop = ProcessingLoop(pipeline: try BeatPipeline(config: config, model: nil), channel: channel)
        channel.sampleRate.store(44_100, ordering: .releasing)
        let signal = ExampleSignal(duration: 20)
        signal.samples.withUnsafeBufferPointer { all in
            var k = 0
            while (k + 1) * 441 <= all.count {
                if let gap = gapBefore(k) {
                    channel.push(UnsafeBufferPointer(rebasing: all[(k * 441)..<((k + 1) * 441)]),
                                 stamp: CaptureStamp(firstSample: k * 441, frames: 441, hostNanos: 0, gapBefore: gap))
                }
                k += 1
                if drainAfter(k) { loop.drain() }
            }
        }
        loop.drain()
        var out = [DaemonEvent](repeating: .empty, count: 256)
        let n = out.withUnsafeMutableBufferPointer { loop.events.read(into: $0) }
        return (out[0..<n].map(\.event.beatTime), channel)
    }

    /// On the generated beats (0.5 s + k/2 s), not shifted by what was lost.
    func expectOnTheBeatGrid(_ beats: [Double]) {
        #expect(!beats.isEmpty)
        for t in beats { #expect(abs((t - 0.5) * 2 - ((t - 0.5) * 2).rounded()) < 0.05, "\(t)") }
    }

    /// A gap (xrun, lost device) advances the stream clock: beats after it keep their times.
    @Test func gapsAdvanceTheStreamClock() throws {
        // Drop periods 1000..1049 (0.5 s) as an xrun would, and report them as a gap.
        let r = try streamExample(ringSamples: 1 << 22, gapBefore: { k in
            k >= 1000 && k < 1050 ? nil : (k == 1050 ? 50 * 441 : 0)
        }, drainAfter: { $0 % 500 == 0 })
        expectOnTheBeatGrid(r.beats.filter { $0 > 12 })
    }

    /// Periods a full ring drops (the processing thread starved) are a gap on the stream clock
    /// too: beats after them keep their times.
    @Test func periodsDroppedByAFullRingAreAGap() throws {
        // Room for 148 periods (65,536 samples): 384 pushed without draining drop 236, 2.36 s,
        // which is not a whole number of beats.
        let r = try streamExample(ringSamples: 1 << 16, gapBefore: { _ in 0 },
                                  drainAfter: { $0 % 64 == 0 && ($0 < 1000 || $0 >= 1300) })
        #expect(r.channel.droppedPeriods.load(ordering: .relaxed) >= 100)
        expectOnTheBeatGrid(r.beats.filter { $0 > 14 })
    }
}
