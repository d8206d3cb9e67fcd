import Atomics
import Glibc
import TactusCore

/// A beat event as the daemon hands it to its outputs: the core's event plus host times.
public struct DaemonEvent: Sendable, Equatable, BitwiseCopyable {
    public var event: BeatEvent
    /// The beat and emission times mapped to CLOCK_MONOTONIC (ns).
    public var beatHostNanos: Int64
    public var emissionHostNanos: Int64
    /// Capture time of the newest sample of the frame that produced the event, and the time the
    /// event was ready (CLOCK_MONOTONIC ns); the output thread measures latency from the first.
    public var captureNanos: Int64
    public var readyNanos: Int64
    /// The daemon's beat sequence number: from 1, never reset while it runs (a reload restarts
    /// `event.count`, not this), so a receiver can prove no beat was lost on the way.
    public var seq: Int

    public init(event: BeatEvent, beatHostNanos: Int64, emissionHostNanos: Int64, captureNanos: Int64,
                readyNanos: Int64, seq: Int = 0) {
        self.event = event; self.beatHostNanos = beatHostNanos; self.emissionHostNanos = emissionHostNanos
        self.captureNanos = captureNanos; self.readyNanos = readyNanos; self.seq = seq
    }

    /// An empty slot value for preallocated buffers.
    public static let empty = DaemonEvent(
        event: BeatEvent(beatTime: 0, emissionTime: 0, tempo: 0, confidence: 0, count: 0, predicted: false),
        beatHostNanos: 0, emissionHostNanos: 0, captureNanos: 0, readyNanos: 0)
}

/// One frame as the web page draws it: stream time (s), activation, whether the gate was open.
public struct FrameSample: Sendable, BitwiseCopyable {
    public var time: Double
    public var activation: Float
    public var gateOpen: Bool
    public static let empty = FrameSample(time: 0, activation: 0, gateOpen: false)

    public init(time: Double, activation: Float, gateOpen: Bool) {
        self.time = time; self.activation = activation; self.gateOpen = gateOpen
    }
}

/// The processing thread's work: pops periods from the capture channel, bridges gaps, resamples
/// to the processing rate, runs the core pipeline hop by hop and queues events for the outputs
/// without waiting for them. Allocates nothing per hop once running.
public final class ProcessingLoop: @unchecked Sendable {
    public let events: SPSCRing<DaemonEvent>
    /// Posted when events were queued: the output thread sleeps on it instead of polling.
    private let eventWake = WakeSemaphore()
    public let channel: CaptureChannel
    /// Counters the main thread reads.
    public let hops = UnsafeAtomic<Int>.create(0)
    public let droppedEvents = UnsafeAtomic<Int>.create(0)
    public let heartbeatNanos = UnsafeAtomic<Int64>.create(0)
    /// Latest tempo (BPM) and confidence, as Double bit patterns, for the status line.
    public let tempoBits = UnsafeAtomic<UInt64>.create(0)
    public let confidenceBits = UnsafeAtomic<UInt64>.create(0)
    /// Whether the emitter is locked (predicting ahead), for lock/unlock notices.
    public let locked = UnsafeAtomic<Bool>.create(false)
    /// Input samples that were NaN, infinite or beyond full scale ×64 (repaired by the framer).
    public let repairedSamples = UnsafeAtomic<Int>.create(0)
    /// Stream time (s) of the last sample processed, as a Double bit pattern.
    public let streamTimeBits = UnsafeAtomic<UInt64>.create(0)
    /// Operator commands (issue 20), applied at period boundaries; nil: none come.
    public var inbox: ControlInbox?
    /// The operator's state for the status line: holding, the range's source
    /// (`StageControl.RangeSource` raw value), meter and the last beat's place in its bar.
    public let holding = UnsafeAtomic<Bool>.create(false)
    public let rangeSource = UnsafeAtomic<Int>.create(0)
    public let meter = UnsafeAtomic<Int>.create(BarCounter.defaultMeter)
    public let beatInBar = UnsafeAtomic<Int>.create(0)
    public let bar = UnsafeAtomic<Int>.create(0)
    /// Whether the signal gate was open at the last frame (music, not silence).
    public let gateOpen = UnsafeAtomic<Bool>.create(false)
    /// Every frame's activation for the web page, and every period's cost (µs) for /metrics;
    /// set before `run` when the web server is on; full rings drop (never wait).
    public var frameFeed: SPSCRing<FrameSample>?
    public var costFeed: SPSCRing<Float>?
    /// Commands applied per period at most: a flood waits in the queue, it does not stall a period.
    public static let commandsPerPeriod = 8
    private var seq = 0
    /// Per-period processing cost (µs) over the run, for the statistics: read through
    /// `finishedCosts`.
    private let costs = QuantileHistogram(lowest: 0.1, highest: 1e7)
    /// Set (releasing) when `run` returned: what the loop wrote is then safe to read.
    private let finished = UnsafeAtomic<Bool>.create(false)

    private var pipeline: BeatPipeline
    /// A replacement pipeline (SIGHUP reload) waiting to be swapped in at a period boundary, and
    /// the old one handed back to the main thread to be released there.
    private let pending = UnsafeAtomic<Int>.create(0)
    private let retired = UnsafeAtomic<Int>.create(0)
    /// Set with `pending`: take only the pending pipeline's emission settings (BeatPipeline.retune).
    private let pendingRetune = UnsafeAtomic<Bool>.create(false)
    private let rate: Double
    private var resampler: Resampler?
    private var deviceRate = 0
    private var input: UnsafeMutableBufferPointer<Float>
    private let zeros: UnsafeMutableBufferPointer<Float>
    /// host ≈ offset + stream sample / processing rate (ns); smoothed over periods.
    private var hostOffset: Double = .nan
    private var streamSamples = 0

    public init(pipeline: BeatPipeline, channel: CaptureChannel, eventCapacity: Int = 4096) {
        self.pipeline = pipeline
        self.channel = channel
        events = SPSCRing(capacity: eventCapacity, filler: .empty)
        rate = pipeline.config.features.sampleRate
        input = .allocate(capacity: 1 << 16)
        zeros = .allocate(capacity: 4096)
        zeros.initialize(repeating: 0)
    }

    /// Output thread: waits until events were queued or `timeout` seconds passed.
    public func waitForEvents(timeout: Double) { eventWake.wait(timeout: timeout) }

    /// Wakes the output thread (shutdown).
    public func pokeOutput() { eventWake.post() }

    deinit {
        input.deallocate(); zeros.deallocate()
        pendingRetune.destroy()
        for slot in [pending, retired] {
            let p = slot.exchange(0, ordering: .acquiring)
            if p != 0 { Unmanaged<BeatPipeline>.fromOpaque(UnsafeRawPointer(bitPattern: p)!).release() }
            slot.destroy()
        }
        finished.destroy()
        hops.destroy(); droppedEvents.destroy(); heartbeatNanos.destroy(); tempoBits.destroy(); confidenceBits.destroy()
        locked.destroy(); repairedSamples.destroy(); streamTimeBits.destroy()
        holding.destroy(); rangeSource.destroy(); meter.destroy(); beatInBar.destroy(); bar.destroy()
        gateOpen.destroy()
    }

    /// Main thread: offers a new pipeline (built off the hot path); false if one is still pending.
    /// `retuneOnly`: the running pipeline keeps its state and takes the new one's emission
    /// settings (a reload that changed only those; `BeatPipeline.canRetune(from:)` must hold).
    public func offer(_ newPipeline: BeatPipeline, retuneOnly: Bool = false) -> Bool {
        releaseRetired()
        guard pending.load(ordering: .acquiring) == 0 else { return false }
        pendingRetune.store(retuneOnly, ordering: .relaxed)
        let p = Int(bitPattern: Unmanaged.passRetained(newPipeline).toOpaque())
        if pending.compareExchange(expected: 0, desired: p, ordering: .acquiringAndReleasing).exchanged { return true }
        Unmanaged<BeatPipeline>.fromOpaque(UnsafeRawPointer(bitPattern: p)!).release()
        return false
    }

    /// Main thread: releases a pipeline the processing thread swapped out.
    public func releaseRetired() {
        let p = retired.exchange(0, ordering: .acquiring)
        if p != 0 { Unmanaged<BeatPipeline>.fromOpaque(UnsafeRawPointer(bitPattern: p)!).release() }
    }

    /// Runs until `stop` is set and the channel is drained.
    public func run(stop: UnsafeAtomic<Bool>) {
        while true {
            channel.wait(timeout: 0.2)
            drain()
            heartbeatNanos.store(MonotonicClock.nanos(), ordering: .relaxed)
            if stop.load(ordering: .relaxed) {
                drain()
                finished.store(true, ordering: .releasing)
                return
            }
        }
    }

    /// The per-period costs (µs), once `run` has returned; nil while it runs.
    public func finishedCosts() -> QuantileHistogram? { finished.load(ordering: .acquiring) ? costs : nil }

    /// Processes every period waiting in the channel.
    public func drain() {
        var stamp = CaptureStamp(firstSample: 0, frames: 0, hostNanos: 0, gapBefore: 0)
        while withUnsafeMutablePointer(to: &stamp, {
            channel.stamps.read(into: UnsafeMutableBufferPointer(start: $0, count: 1))
        }) == 1 {
            let start = MonotonicClock.nanos()
            swapIfPending()
            applyCommands()
            let frames = min(stamp.frames, input.count)
            let got = channel.samples.read(into: UnsafeMutableBufferPointer(rebasing: input[0..<frames]))
            process(stamp, samples: UnsafeBufferPointer(rebasing: input[0..<got]))
            let cost = Double(MonotonicClock.nanos() - start) / 1000
            costs.record(cost)
            if let costFeed {
                var c = Float(cost)
                _ = costFeed.write(c)
            }
            hops.wrappingIncrement(ordering: .relaxed)
        }
    }

    private func swapIfPending() {
        let p = pending.exchange(0, ordering: .acquiring)
        guard p != 0 else { return }
        let next = Unmanaged<BeatPipeline>.fromOpaque(UnsafeRawPointer(bitPattern: p)!).takeRetainedValue()
        let old: UnsafeMutableRawPointer
        if pendingRetune.load(ordering: .relaxed) {
            // Same tracker, same stream: only lead, gate and the like change.
            pipeline.retune(from: next)
            old = Unmanaged.passRetained(next).toOpaque()
        } else {
            // Continue the stream: the new pipeline's clock starts where the old one stopped.
            next.reset()
            repairedBefore += pipeline.framer.repairedSamples
            old = Unmanaged.passRetained(pipeline).toOpaque()
            pipeline = next
            streamOffset = streamSamples
        }
        // The old pipeline goes back to the main thread: freeing it here would call free().
        if !retired.compareExchange(expected: 0, desired: Int(bitPattern: old),
                                    ordering: .acquiringAndReleasing).exchanged {
            Unmanaged<BeatPipeline>.fromOpaque(old).release()
        }
    }

    /// Stream samples before the current pipeline took over (its times start at 0).
    private var streamOffset = 0

    /// Applies waiting commands at this period boundary, each at its arrival mapped to the
    /// pipeline's stream clock (DESIGN.md, "The control path"). Lock-free, no allocation.
    private func applyCommands() {
        guard let inbox else { return }
        for _ in 0..<Self.commandsPerPeriod {
            guard let request = inbox.next() else { return }
            let offset = Double(streamOffset) / rate
            let last = pipeline.controlState.lastTime
            var time: Double?
            if !hostOffset.isNaN {
                // Within the last two seconds and the period now being processed: a stamp outside
                // (a clock step, a stalled capture) is taken as now.
                let t = (Double(request.hostNanos) - hostOffset) / 1e9 - offset
                time = t >= last - 2 && t <= last + 0.5 ? t : nil
            }
            let before = beatTempo()
            let result = pipeline.control(request.command, at: time)
            let c = pipeline.controlState
            inbox.complete(ControlOutcome(request: request, result: result, streamTime: (time ?? max(last, 0)) + offset,
                                          tempoBefore: before, tempoAfter: beatTempo(), control: c,
                                          nudge: pipeline.emitter.phaseOffset * 1000))
            holding.store(c.isHolding, ordering: .relaxed)
            rangeSource.store(Int(c.rangeSource.rawValue), ordering: .relaxed)
            meter.store(c.bars.meter, ordering: .relaxed)
        }
    }

    /// The tempo the beats follow (BPM): the emitter's anchor, else the tracker's; 0 when none.
    private func beatTempo() -> Double {
        let period = pipeline.emitter.anchor.period
        if period.isFinite && period > 0 && pipeline.emitter.anchor.time.isFinite { return 60 / period }
        return Double(bitPattern: tempoBits.load(ordering: .relaxed))
    }

    private func process(_ stamp: CaptureStamp, samples: UnsafeBufferPointer<Float>) {
        let devRate = channel.sampleRate.load(ordering: .acquiring)
        if devRate != deviceRate && devRate > 0 {
            // A (re)opened device at another rate: a new resampler (rare; not a per-hop cost).
            deviceRate = devRate
            resampler = Double(devRate) == rate ? nil
                : try? Resampler(inputRate: Double(devRate), outputRate: rate, maxBlock: input.count)
        }
        let ratio = deviceRate > 0 ? rate / Double(deviceRate) : 1
        // The stream clock advances over a gap: bridged with silence (the gate closes), or, when
        // longer than 10 s, by restarting the pipeline further down the clock.
        if stamp.gapBefore > 0 {
            let gap = Int((Double(stamp.gapBefore) * ratio).rounded())
            if gap > Int(10 * rate) {
                repairedBefore += pipeline.framer.repairedSamples
                pipeline.reset()
                streamSamples += gap
                streamOffset = streamSamples
            } else {
                var left = gap
                while left > 0 {
                    let n = min(left, zeros.count)
                    feed(UnsafeBufferPointer(rebasing: zeros[0..<n]))
                    left -= n
                }
            }
        }
        // Host time of the stream clock, smoothed over periods (the stamps jitter).
        let measured = Double(stamp.hostNanos) - Double(streamSamples) / rate * 1e9
        hostOffset = hostOffset.isNaN ? measured : hostOffset + (measured - hostOffset) / 64
        if let resampler {
            try? resampler.process(samples) { feed($0) }
        } else {
            feed(samples)
        }
    }

    private func feed(_ block: UnsafeBufferPointer<Float>) {
        let offsetSeconds = Double(streamOffset) / rate
        pipeline.process(block) { r in
            tempoBits.store(r.tracker.tempo.bitPattern, ordering: .relaxed)
            confidenceBits.store(r.tracker.confidence.bitPattern, ordering: .relaxed)
            locked.store(r.locked, ordering: .relaxed)
            gateOpen.store(r.gateOpen, ordering: .relaxed)
            if let frameFeed {
                var f = FrameSample(time: r.time + offsetSeconds, activation: r.activation, gateOpen: r.gateOpen)
                _ = frameFeed.write(f)
            }
            guard var e = r.event else { return }
            beatInBar.store(e.beatInBar, ordering: .relaxed)
            bar.store(e.bar, ordering: .relaxed)
            e.beatTime += offsetSeconds
            e.emissionTime += offsetSeconds
            seq += 1
            // Latency counts from the frame's newest sample, the one that made the frame (the
            // period's last sample comes up to a period later, which hid that period).
            let frameNanos = Int64(hostOffset + (r.time + offsetSeconds) * 1e9)
            var d = DaemonEvent(event: e, beatHostNanos: Int64(hostOffset + e.beatTime * 1e9),
                                emissionHostNanos: Int64(hostOffset + e.emissionTime * 1e9),
                                captureNanos: frameNanos, readyNanos: MonotonicClock.nanos(), seq: seq)
            let ok = events.write(d)
            if !ok { droppedEvents.wrappingIncrement(ordering: .relaxed) }
            eventWake.post()
        }
        streamSamples += block.count
        streamTimeBits.store((Double(streamSamples) / rate).bitPattern, ordering: .relaxed)
        repairedSamples.store(pipeline.framer.repairedSamples + repairedBefore, ordering: .relaxed)
    }

    /// Repaired samples counted by pipelines swapped out or reset before the current one.
    private var repairedBefore = 0
}
