import Synchronization
import TactusCore
import TactusIO
import TactusWeb

/// The web page's feed on the output thread (issue 21): every beat, notice and ack to the live
/// pages at once; about 4 times a second the status object, which the pages' updates (on the web
/// server's loop, `WebUpdates`), /api/status and /metrics read from `published` with per-sink
/// errors and recent cost quantiles.
final class WebSink: EventSink, @unchecked Sendable {  // `published` is locked; the rest is the output thread's
    let hub: WebHub
    private let costs: SPSCRing<Float>
    private var next: Int64 = 0
    /// The status object for the page and /api/status (set once the output thread's owner exists).
    var status: () -> String = { "{}" }
    /// Every sink's errors by name (read on the output thread).
    var sinkErrors: () -> [(String, Int)] = { [] }
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

    init(hub: WebHub, costs: SPSCRing<Float>) {
        self.hub = hub
        self.costs = costs
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

    /// The status refresh rides on the output thread's own wake-ups (a beat, or its 0.2 s wait
    /// cap) and asks for none of its own: an extra wake-up costs more than the refresh. Hence
    /// every 0.18-0.4 s, about 4 times a second.
    func service(now: Int64) -> Int64? {
        guard now >= next else { return nil }
        next = now + 180_000_000
        updateCosts(now: now)
        let text = status()
        published.withLock { p in
            p.status = text
            p.sinkErrors = sinkErrors()
        }
        return nil
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
