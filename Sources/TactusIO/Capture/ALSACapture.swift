import Atomics
import CALSA
import Glibc

/// Captures from an ALSA PCM: interleaved float (or 16-bit, converted) periods of `periodFrames`,
/// mixed or picked to mono, stamped with the device's CLOCK_MONOTONIC timestamps. Recovers from
/// xruns (`-EPIPE`) and suspends (`-ESTRPIPE`), and retries a missing or lost device with capped
/// exponential backoff. The loop never allocates, locks or logs: it reports through notices.
public final class ALSACapture: CaptureSource, @unchecked Sendable {
    public let device: String
    public let requestedRate: Int
    public let channel: Int
    public let periodHops: Int
    public let retryMax: Double
    /// Faults injected at the ALSA boundary (tests): indexed by read attempt over the whole run.
    public var faults = FaultPlan.none
    private var reads = 0

    public init(device: String, requestedRate: Int = 44_100, channel: Int = -1, periodHops: Int = 1,
                retryMax: Double = 5) {
        self.device = device
        self.requestedRate = requestedRate
        self.channel = channel
        self.periodHops = periodHops
        self.retryMax = retryMax
        tactus_alsa_silence_errors()
    }

    /// An open, configured, started PCM and its buffers.
    private struct Stream {
        var pcm: OpaquePointer
        var rate: Int
        var channels: Int
        var periodFrames: Int
        var isFloat: Bool
        var interleaved: UnsafeMutableRawPointer
        var mono: UnsafeMutablePointer<Float>

        func close() {
            snd_pcm_close(pcm)
            interleaved.deallocate()
            mono.deallocate()
        }
    }

    public func run(into channel: CaptureChannel, stop: UnsafeAtomic<Bool>) {
        var delay = 0.25
        var lastError: Int32 = 0
        var streamSample = 0
        var lostSince: Int64?
        while !stop.load(ordering: .relaxed) {
            let opened = open()
            guard case .success(let stream) = opened else {
                if case .failure(let error) = opened, error.code != lastError {
                    channel.notify(.openFailed, Int64(error.code))
                    lastError = error.code
                }
                if lostSince == nil { lostSince = MonotonicClock.nanos() }
                channel.notify(.retrying, Int64(delay * 1000))
                pause(delay, stop: stop)
                // Forget the cached configuration, so that a PCM defined meanwhile (asoundrc) or a
                // card that arrived is seen at the next attempt.
                snd_config_update_free_global()
                delay = min(delay * 2, retryMax)
                continue
            }
            delay = 0.25
            lastError = 0
            channel.sampleRate.store(stream.rate, ordering: .releasing)
            channel.notify(.opened, Int64(stream.rate))
            // A device that comes back continues the stream clock after the time it was away.
            var gap = 0
            if let since = lostSince {
                gap = Int(Double(MonotonicClock.nanos() - since) * 1e-9 * Double(stream.rate))
                lostSince = nil
            }
            let code = capture(stream, channel: channel, stop: stop, streamSample: &streamSample, gap: gap)
            stream.close()
            if code != 0 {
                channel.notify(.lost, Int64(code))
                lostSince = MonotonicClock.nanos()
            }
        }
    }

    private func pause(_ seconds: Double, stop: UnsafeAtomic<Bool>) {
        let end = MonotonicClock.nanos() + Int64(seconds * 1e9)
        while !stop.load(ordering: .relaxed) && MonotonicClock.nanos() < end {
            sleepUntil(min(end, MonotonicClock.nanos() + 50_000_000))
        }
    }

    /// Reads until stopped (returns 0) or the device fails (returns the negative error).
    private func capture(_ s: Stream, channel: CaptureChannel, stop: UnsafeAtomic<Bool>,
                         streamSample: inout Int, gap initialGap: Int) -> Int32 {
        var gap = initialGap
        let nanosPerFrame = 1e9 / Double(s.rate)
        var silentWaits = 0
        var expectedHost: Int64 = 0
        while !stop.load(ordering: .relaxed) {
            // Wait with a timeout rather than block in the read: a device (or a sound server) that
            // vanishes without an error must not hang the thread. Two seconds without a period is
            // a lost device.
            let ready = snd_pcm_wait(s.pcm, 200)
            if ready == 0 {
                silentWaits += 1
                if silentWaits >= 10 { return -EIO }
                continue
            }
            silentWaits = 0
            var frames = s.periodFrames
            var injected: Int32?
            if !faults.isEmpty {
                injected = faults.fault(at: reads)
                if injected == FaultPlan.shortRead { frames = max(1, frames / 3); injected = nil }
            }
            reads += 1
            let r = injected.map { -Int($0) }
                ?? (ready < 0 ? Int(ready) : snd_pcm_readi(s.pcm, s.interleaved, snd_pcm_uframes_t(frames)))
            if r < 0 {
                let err = Int32(r)
                if err == -EPIPE {
                    // Overrun: the samples since the last read are gone; restart and count.
                    channel.xruns.wrappingIncrement(ordering: .relaxed)
                    // How much was lost shows in the next period's timestamp (see below).
                    channel.notify(.xrun, 0)
                    // A prepared capture stream stays stopped until started: without this, the
                    // wait below would time out and the device would be taken for lost.
                    if snd_pcm_prepare(s.pcm) < 0 || snd_pcm_start(s.pcm) < 0 { return err }
                    continue
                }
                if err == -ESTRPIPE {
                    channel.notify(.suspended)
                    var rc = snd_pcm_resume(s.pcm)
                    while rc == -EAGAIN && !stop.load(ordering: .relaxed) {
                        sleepUntil(MonotonicClock.nanos() + 100_000_000)
                        rc = snd_pcm_resume(s.pcm)
                    }
                    if rc < 0 && (snd_pcm_prepare(s.pcm) < 0 || snd_pcm_start(s.pcm) < 0) { return err }
                    continue
                }
                if err == -EAGAIN || err == -EINTR { continue }
                return err
            }
            let n = Int(r)
            guard n > 0 else { continue }
            // Capture time of the first sample: the device timestamp of "now" minus what is still
            // buffered and this period. Without a device clock (some plugins), the read time.
            var avail: snd_pcm_uframes_t = 0
            var ts = snd_htimestamp_t()
            var host = MonotonicClock.nanos()
            if snd_pcm_htimestamp(s.pcm, &avail, &ts) == 0 && (ts.tv_sec != 0 || ts.tv_nsec != 0) {
                host = Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
            }
            host -= Int64(Double(Int(avail) + n) * nanosPerFrame)
            // Samples some plugins drop without an error (JACK's, when the reader was held up):
            // the timestamps show the hole; more than three periods of it is a gap on the clock.
            if expectedHost != 0 {
                let late = Double(host - expectedHost)
                if late > 3 * Double(s.periodFrames) * nanosPerFrame {
                    let lost = Int((late / nanosPerFrame).rounded())
                    gap += lost
                    channel.xruns.wrappingIncrement(ordering: .relaxed)
                    channel.notify(.xrun, Int64(lost))
                }
            }
            expectedHost = host + Int64(Double(n) * nanosPerFrame)
            toMono(s, frames: n)
            streamSample += gap
            channel.push(UnsafeBufferPointer(start: s.mono, count: n),
                         stamp: CaptureStamp(firstSample: streamSample, frames: n, hostNanos: host, gapBefore: gap))
            streamSample += n
            gap = 0
        }
        return 0
    }

    private func toMono(_ s: Stream, frames: Int) {
        let c = s.channels
        if s.isFloat {
            let x = s.interleaved.assumingMemoryBound(to: Float.self)
            if channel >= 0 && channel < c {
                for i in 0..<frames { s.mono[i] = x[i * c + channel] }
            } else {
                let scale = 1 / Float(c)
                for i in 0..<frames {
                    var sum: Float = 0
                    for k in 0..<c { sum += x[i * c + k] }
                    s.mono[i] = sum * scale
                }
            }
        } else {
            let x = s.interleaved.assumingMemoryBound(to: Int16.self)
            if channel >= 0 && channel < c {
                for i in 0..<frames { s.mono[i] = Float(x[i * c + channel]) / 32768 }
            } else {
                let scale = 1 / (32768 * Float(c))
                for i in 0..<frames {
                    var sum: Float = 0
                    for k in 0..<c { sum += Float(x[i * c + k]) }
                    s.mono[i] = sum * scale
                }
            }
        }
    }

    private func open() -> Result<Stream, ALSAError> {
        var pcm: OpaquePointer?
        var rc = snd_pcm_open(&pcm, device, SND_PCM_STREAM_CAPTURE, 0)
        guard rc == 0, let pcm else { return .failure(ALSAError(code: rc)) }
        var hw: OpaquePointer?
        snd_pcm_hw_params_malloc(&hw)
        defer { snd_pcm_hw_params_free(hw) }
        snd_pcm_hw_params_any(pcm, hw)
        snd_pcm_hw_params_set_access(pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED)
        var isFloat = true
        if snd_pcm_hw_params_set_format(pcm, hw, SND_PCM_FORMAT_FLOAT_LE) < 0 {
            isFloat = false
            rc = snd_pcm_hw_params_set_format(pcm, hw, SND_PCM_FORMAT_S16_LE)
            if rc < 0 { snd_pcm_close(pcm); return .failure(ALSAError(code: rc)) }
        }
        var channels: UInt32 = 1
        snd_pcm_hw_params_get_channels_min(hw, &channels)
        if channel >= 0 { channels = max(channels, UInt32(channel + 1)) }
        var maxChannels: UInt32 = channels
        snd_pcm_hw_params_get_channels_max(hw, &maxChannels)
        channels = min(channels, maxChannels)
        rc = snd_pcm_hw_params_set_channels(pcm, hw, channels)
        if rc < 0 { snd_pcm_close(pcm); return .failure(ALSAError(code: rc)) }
        var rate = UInt32(requestedRate)
        rc = snd_pcm_hw_params_set_rate_near(pcm, hw, &rate, nil)
        if rc < 0 { snd_pcm_close(pcm); return .failure(ALSAError(code: rc)) }
        // One hop of the processing rate, at the device rate.
        var period = snd_pcm_uframes_t((Double(periodHops) * 0.01 * Double(rate)).rounded())
        var dir: Int32 = 0
        snd_pcm_hw_params_set_period_size_near(pcm, hw, &period, &dir)
        var buffer = period * 8
        snd_pcm_hw_params_set_buffer_size_near(pcm, hw, &buffer)
        rc = snd_pcm_hw_params(pcm, hw)
        if rc < 0 { snd_pcm_close(pcm); return .failure(ALSAError(code: rc)) }
        snd_pcm_hw_params_get_period_size(hw, &period, &dir)
        var sw: OpaquePointer?
        snd_pcm_sw_params_malloc(&sw)
        defer { snd_pcm_sw_params_free(sw) }
        snd_pcm_sw_params_current(pcm, sw)
        // Timestamps on CLOCK_MONOTONIC, chosen explicitly (JACK, for one, defaults to MONOTONIC_RAW).
        snd_pcm_sw_params_set_tstamp_mode(pcm, sw, SND_PCM_TSTAMP_ENABLE)
        snd_pcm_sw_params_set_tstamp_type(pcm, sw, SND_PCM_TSTAMP_TYPE_MONOTONIC)
        snd_pcm_sw_params_set_avail_min(pcm, sw, period)
        snd_pcm_sw_params(pcm, sw)
        rc = snd_pcm_prepare(pcm)
        if rc < 0 { snd_pcm_close(pcm); return .failure(ALSAError(code: rc)) }
        snd_pcm_start(pcm)
        let frames = Int(period)
        let bytes = frames * Int(channels) * (isFloat ? 4 : 2)
        return .success(Stream(pcm: pcm, rate: Int(rate), channels: Int(channels), periodFrames: frames,
                               isFloat: isFloat,
                               interleaved: UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 16),
                               mono: .allocate(capacity: frames)))
    }

    /// Capture devices ALSA knows: name hints of PCMs with input (for `tactus devices`).
    public static func devices() -> [(name: String, description: String)] {
        var hints: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
        guard snd_device_name_hint(-1, "pcm", &hints) == 0, let hints else { return [] }
        defer { snd_device_name_free_hint(hints) }
        var out: [(String, String)] = []
        var i = 0
        while let hint = hints[i] {
            func get(_ id: String) -> String? {
                guard let p = snd_device_name_get_hint(hint, id) else { return nil }
                defer { free(p) }
                return String(cString: p)
            }
            let io = get("IOID")
            if io == nil || io == "Input", let name = get("NAME") {
                out.append((name, (get("DESC") ?? "").replacing("\n", with: " — ")))
            }
            i += 1
        }
        return out
    }

    /// Rates a device accepts, probed by opening it briefly.
    public static func rates(of device: String) -> Result<[Int], ALSAError> {
        var pcm: OpaquePointer?
        let rc = snd_pcm_open(&pcm, device, SND_PCM_STREAM_CAPTURE, SND_PCM_NONBLOCK)
        guard rc == 0, let pcm else { return .failure(ALSAError(code: rc)) }
        defer { snd_pcm_close(pcm) }
        var hw: OpaquePointer?
        snd_pcm_hw_params_malloc(&hw)
        defer { snd_pcm_hw_params_free(hw) }
        snd_pcm_hw_params_any(pcm, hw)
        return .success([8_000, 16_000, 22_050, 32_000, 44_100, 48_000, 88_200, 96_000, 192_000].filter {
            snd_pcm_hw_params_test_rate(pcm, hw, UInt32($0), 0) == 0
        })
    }
}

public struct ALSAError: Error, Equatable, CustomStringConvertible {
    public let code: Int32
    public init(code: Int32) { self.code = code }
    public var description: String { String(cString: snd_strerror(code)) }
}
