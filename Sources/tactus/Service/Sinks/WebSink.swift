import Synchronization
import TactusCore
import TactusIO
import TactusWeb

/// The web page's feed (issue 21): every beat to the live pages at once; `web.update_rate`
/// times a second the activations of the frames since the last update (from the processing
/// thread's frame feed) with the status object. It also keeps what /api/status and /metrics
/// serve from other threads: the last status object, per-sink errors, recent cost quantiles.
final class WebSink: EventSink, @unchecked Sendable {  // `published` is locked; the rest is the output thread's
    let hub: WebHub
    private let frames: SPSCRing<FrameSample>
    private let costs: SPSCRing<Float>
    private let interval: Int64
    private var next: Int64 = 0
    /// The status object for the page and /api/status (set once the output thread's owner exists).
    var status: () -> String = { "{}" }
    /// Every sink's errors by name (read on the output thread).
    var sinkErrors: () -> [(String, Int)] = { [] }
    private var frameBuffer = [FrameSample](repeating: .empty, count: 4096)
    private var costBuffer = [Float](repeating: 0, count: 4096)
    /// Period costs (µs) of the current minute; the last full minute's quantiles are published.
    private var window = QuantileHistogram(lowest: 0.1, highest: 1e7)
    private var windowStart: Int64 = 0
    private var lastStatus: Int64 = 0
    struct Published: Sendable {
        var status = "{}"
        var sinkErrors: [(String, Int)] = []
        /// p50, p99, max of the period cost (s) over the last minute; nil before one.
        var costQuantiles: (Double, Double, Double)?
    }
    let published = Mutex(Published())
    var order: Int { 5 }
    var name: String { "web" }

    init(hub: WebHub, frames: SPSCRing<FrameSample>, costs: SPSCRing<Float>, updateRate: Double) {
        self.hub = hub
        self.frames = frames
        self.costs = costs
        interval = Int64(1e9 / updateRate)
    }

    func beats(_ batch: ArraySlice<DaemonEvent>, lines: String, toUnix: Double) {
        guard hub.clientCount > 0 else { return }
        for d in batch {
            let e = d.event
            var m = String(cFormat: "{\"event\":\"beat\",\"time\":%.4f,\"tempo\":%.2f,"
                           + "\"confidence\":%.3f,\"count\":%d,",
                           e.beatTime, e.tempo, e.confidence, e.count)
            m += e.predicted ? "\"predicted\":true," : "\"predicted\":false,"
            m += "\"beat_in_bar\":\(e.beatInBar),\"meter\":\(e.meter),\"bar\":\(e.bar),\"phrase_bar\":\(e.phraseBar),"
            m += "\"phrase\":\(e.phrase),\"bar_source\":\"\(e.barSource == .operator ? "operator" : "count")\","
            m += String(cFormat: "\"unix_beat\":%.6f,\"unix_emitted\":%.6f,\"seq\":%d}",
                        Double(d.beatHostNanos) / 1e9 + toUnix, Double(d.emissionHostNanos) / 1e9 + toUnix, d.seq)
            hub.broadcast(m)
        }
    }

    /// Notices and acks to the pages as they are.
    func lines(_ text: String) {
        guard hub.clientCount > 0 else { return }
        for line in text.split(separator: "\n") { hub.broadcast(String(line)) }
    }

    func service(now: Int64) -> Int64? {
        guard now >= next else { return next }
        // Without a page, the frames are drained and the status refreshed 4 times a second.
        next = now + (hub.clientCount > 0 ? interval : max(interval, 250_000_000))
        let n = frameBuffer.withUnsafeMutableBufferPointer { frames.read(into: $0) }
        updateCosts(now: now)
        let pages = hub.clientCount > 0
        // The status (for the page, /api/status, /metrics) 4 times a second; activations at the
        // update rate.
        var s: String?
        if now - lastStatus >= 240_000_000 {
            lastStatus = now
            let text = status()
            published.withLock { p in
                p.status = text
                p.sinkErrors = sinkErrors()
            }
            s = text
        }
        guard pages else { return next }
        var m = "{\"event\":\"update\","
        m += String(cFormat: "\"t0\":%.4f,\"dt\":%.4f,\"a\":[", n > 0 ? frameBuffer[0].time : 0,
                    n > 1 ? (frameBuffer[n - 1].time - frameBuffer[0].time) / Double(n - 1) : 0.01)
        m += frameBuffer[0..<n].map { String(cFormat: "%.3f", Double($0.activation)) }.joined(separator: ",")
        m += "],\"gate\":[" + frameBuffer[0..<n].map { $0.gateOpen ? "1" : "0" }.joined(separator: ",")
        m += "]" + (s.map { ",\"status\":" + $0 } ?? "") + "}"
        hub.broadcast(m)
        return next
    }

    private func updateCosts(now: Int64) {
        let n = costBuffer.withUnsafeMutableBufferPointer { costs.read(into: $0) }
        for c in costBuffer[0..<n] { window.record(Double(c)) }
        if windowStart == 0 { windowStart = now }
        guard now - windowStart >= 60_000_000_000 else { return }
        let q = (window.quantile(0.5) / 1e6, window.quantile(0.99) / 1e6, window.maximum / 1e6)
        published.withLock { $0.costQuantiles = q }
        window = QuantileHistogram(lowest: 0.1, highest: 1e7)
        windowStart = now
    }
}
