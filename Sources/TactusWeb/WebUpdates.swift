import NIOCore
import TactusCore
import TactusIO

/// The pages' activation updates (issue 21): `web.update_rate` times a second, on the web
/// server's one event loop, the activations and gate of the frames since the last update (the
/// processing thread's frame feed) and the newest status object, to every live page. Running on
/// the loop that owns the pages' connections, an update costs one timer wake-up and a write per
/// page: no other thread is woken and nothing hops between threads.
final class WebUpdates: @unchecked Sendable {  // everything below runs on `loop`
    private let hub: WebHub
    private let frames: SPSCRing<FrameSample>
    private let status: @Sendable () -> String
    private let interval: TimeAmount
    private var buffer = [FrameSample](repeating: .empty, count: 4096)
    private var bytes = [UInt8]()
    private var sentStatus = ""
    private var scheduled: Scheduled<Void>?
    private var stopped = false

    init(hub: WebHub, frames: SPSCRing<FrameSample>, status: @escaping @Sendable () -> String, updateRate: Double) {
        self.hub = hub
        self.frames = frames
        self.status = status
        interval = .nanoseconds(Int64(1e9 / updateRate))
    }

    func start(on loop: any EventLoop) {
        loop.execute { self.tick(loop) }
    }

    func stop(on loop: any EventLoop) {
        loop.execute {
            self.stopped = true
            self.scheduled?.cancel()
        }
    }

    private func tick(_ loop: any EventLoop) {
        guard !stopped else { return }
        let n = buffer.withUnsafeMutableBufferPointer { frames.read(into: $0) }
        // Without a page the feed is only drained (4 times a second), so a new page starts fresh.
        let pages = hub.clientCount > 0
        if pages {
            let s = status()
            hub.broadcast(Self.message(buffer[0..<n], status: s == sentStatus ? nil : s, into: &bytes))
            sentStatus = s
        } else {
            sentStatus = ""
        }
        scheduled = loop.scheduleTask(in: pages ? interval : max(interval, .milliseconds(250))) { self.tick(loop) }
    }

    /// The update message: `t0` and `dt` of the frames (s), their activations `a` and gate
    /// states, and the status object when it changed. Built in a reused byte buffer.
    static func message(_ frames: ArraySlice<FrameSample>, status: String?, into bytes: inout [UInt8]) -> String {
        bytes.removeAll(keepingCapacity: true)
        bytes.append(contentsOf: #"{"event":"update","t0":"#.utf8)
        DecimalText.append(frames.first?.time ?? 0, decimals: 4, to: &bytes)
        bytes.append(contentsOf: #","dt":"#.utf8)
        let dt = frames.count > 1 ? (frames.last!.time - frames.first!.time) / Double(frames.count - 1) : 0.01
        DecimalText.append(dt, decimals: 4, to: &bytes)
        bytes.append(contentsOf: #","a":["#.utf8)
        for (i, f) in frames.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            DecimalText.append(Double(f.activation), decimals: 3, to: &bytes)
        }
        bytes.append(contentsOf: #"],"gate":["#.utf8)
        for (i, f) in frames.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(f.gateOpen ? UInt8(ascii: "1") : UInt8(ascii: "0"))
        }
        bytes.append(UInt8(ascii: "]"))
        if let status {
            bytes.append(contentsOf: #","status":"#.utf8)
            bytes.append(contentsOf: status.utf8)
        }
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }
}
