import CAllocCounter
import Foundation
import Glibc
import Atomics
import TactusCore
import Testing
@testable import TactusIO

/// Issue 20: the control path from a socket to the processing thread and back.
@Suite struct ControlPathTests {
    @Test func theQueueIsBoundedAndOutcomesFindTheirSender() throws {
        let inbox = ControlInbox()
        var accepted = 0
        for _ in 0..<(ControlInbox.capacity + 10) where inbox.submit(.tap, origin: .socket(client: 3, id: "\"x\"")) {
            accepted += 1
        }
        #expect(accepted == ControlInbox.capacity)
        #expect(inbox.dropped.load(ordering: .relaxed) == 10)
        let r = try #require(inbox.next())
        let c = StageControl(frameRate: 100, tempoRange: 55...215)
        inbox.complete(ControlOutcome(request: r, result: .pending(taps: 1), streamTime: 1, tempoBefore: 0,
                                      tempoAfter: 0, control: c, nudge: 0))
        let (o, origin) = try #require(inbox.takeOutcome())
        #expect(o.result == .pending(taps: 1))
        guard case .socket(3, "\"x\"") = origin else { Issue.record("origin \(origin)"); return }
    }

    /// Commands reach the pipeline at a period boundary, with no allocation on the processing
    /// thread, and `half` halves the beats that follow.
    @Test func theProcessingLoopAppliesCommandsWithoutAllocating() throws {
        var config = TactusConfig()
        config.emission.gateActivation = 0
        let channel = CaptureChannel(capacitySamples: 1 << 21, periods: 8192)
        let loop = ProcessingLoop(pipeline: try BeatPipeline(config: config, model: nil), channel: channel)
        let inbox = ControlInbox()
        loop.inbox = inbox
        channel.sampleRate.store(44_100, ordering: .releasing)
        let signal = ExampleSignal(tempo: 140, duration: 30)
        func push(_ k: Int) {
            signal.samples.withUnsafeBufferPointer { all in
                channel.push(UnsafeBufferPointer(rebasing: all[(k * 441)..<((k + 1) * 441)]),
                             stamp: CaptureStamp(firstSample: k * 441, frames: 441, hostNanos: Int64(k) * 10_000_000,
                                                 gapBefore: 0))
            }
        }
        for k in 0..<1200 { push(k) }
        loop.drain()
        inbox.submit(.half, hostNanos: 11_995_000_000)
        inbox.submit(.meter(3), hostNanos: 11_995_000_000)
        push(1200)
        tactus_alloc_counting_begin()
        loop.drain()
        let allocations = tactus_alloc_counting_end()
        if tactus_alloc_counter_available() != 0 { #expect(allocations == 0) }
        let (half, _) = try #require(inbox.takeOutcome())
        #expect(half.result == .applied)
        #expect(abs(half.tempoBefore - 140) < 3 && abs(half.tempoAfter - 70) < 2,
                "\(half.tempoBefore) → \(half.tempoAfter)")
        #expect(half.rangeSource == .octave)
        #expect(abs(half.streamTime - 11.995) < 0.02, "the arrival on the stream clock: \(half.streamTime)")
        #expect(try #require(inbox.takeOutcome()).0.meter == 3)
        for k in 1201..<3000 { push(k) }
        loop.drain()
        var events = [DaemonEvent](repeating: .empty, count: 512)
        let n = events.withUnsafeMutableBufferPointer { loop.events.read(into: $0) }
        let late = events[0..<n].map(\.event).filter { $0.beatTime > 15 }
        #expect(late.count > 10)
        #expect(late.allSatisfy { abs($0.tempo - 70) < 3 }, "\(late.map(\.tempo))")
        #expect(late.allSatisfy { $0.meter == 3 })
        #expect(loop.rangeSource.load(ordering: .relaxed) == 2 && loop.meter.load(ordering: .relaxed) == 3)
    }

    func connectClient(_ path: String) throws -> Int32 { try ControlClient.connectUnix(path) }

    /// The JSON-line socket reads command lines per client (bounded), and acks go to one client.
    @Test func theSocketReadsLinesAndAnswersOneClient() throws {
        let path = "/tmp/tcp-\(UUID().uuidString.prefix(8)).sock"
        let server = try LineSocketServer(path: path)
        server.takesCommands = true
        let a = try connectClient(path), b = try connectClient(path)
        defer { close(a); close(b) }
        server.write("")
        _ = send(a, "{\"cmd\":\"ta", 10, 0)
        _ = send(b, "junk\n", 5, 0)
        let long = [UInt8](repeating: 0x41, count: 5000) + [0x0A]
        _ = long.withUnsafeBytes { send(b, $0.baseAddress, $0.count, 0) }
        _ = send(a, "p\"}\n", 4, 0)
        var lines: [(Int, String?)] = []
        server.readLines { id, line in lines.append((id, line.map { String(decoding: $0, as: UTF8.self) })) }
        #expect(lines.count == 3)
        #expect(lines.contains { $0.1 == "{\"cmd\":\"tap\"}" })
        #expect(lines.contains { $0.1 == "junk" })
        #expect(lines.contains { $0.1 == nil }, "the overlong line is reported, not kept")
        let clientA = try #require(lines.first { $0.1?.hasPrefix("{") == true }?.0)
        #expect(server.write("ack\n", toClient: clientA))
        var buf = [UInt8](repeating: 0, count: 16)
        #expect(recv(a, &buf, 16, Int32(MSG_DONTWAIT)) == 4)
        #expect(recv(b, &buf, 16, Int32(MSG_DONTWAIT)) < 0, "the other client got nothing")
    }

    /// OSC over loopback to a ControlServer thread: commands queue with their arrival; garbage
    /// is counted and answered with an error ack; a flood is cut at control.max_rate.
    @Test func theOSCListenerQueuesChecksAndLimits() throws {
        let inbox = ControlInbox()
        let server = try ControlServer(listen: "127.0.0.1:0", allow: try AddressFilter(""), maxRate: 20, socket: nil,
                                       inbox: inbox)
        let stop = UnsafeAtomic<Bool>.create(false)
        defer { stop.destroy() }
        let thread = NamedThread(name: "test-control") { server.run(stop: stop) }
        thread.start()
        let (fd, sender) = UDPSender.forTest(port: server.boundPort)
        defer { close(fd) }
        let before = MonotonicClock.nanos()
        sender(ControlWire.osc(.half).encoded())
        sender([1, 2, 3])
        var tries = 0
        var request = inbox.next()
        while request == nil && tries < 200 { usleep(5000); tries += 1; request = inbox.next() }
        #expect(request?.command == .half)
        #expect((request?.hostNanos ?? 0) >= before, "stamped on arrival")
        // The garbage is answered with an error ack to its sender.
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        #expect(poll(&p, 1, 2000) == 1)
        var reply = [UInt8](repeating: 0, count: 512)
        let n = recv(fd, &reply, reply.count, 0)
        #expect(ControlClient.oscAck(Array(reply[0..<max(0, n)]))?.result == "error")
        for _ in 0..<500 { sender(ControlWire.osc(.tap).encoded()) }
        usleep(300_000)
        stop.store(true, ordering: .relaxed)
        #expect(thread.join(timeout: 2))
        #expect(server.unreadable.load(ordering: .relaxed) >= 1)
        // A burst of 20 (less the two above) passes, then 20 a second; the rest is dropped and counted (the kernel may
        // drop some of the 500 before they are read).
        var queued = 0
        while inbox.next() != nil { queued += 1 }
        #expect(queued >= 15 && queued <= 30, "\(queued) taps queued")
        #expect(server.rateLimited.load(ordering: .relaxed) > 100)
    }
}

extension UDPSender {
    /// A plain UDP socket and a send to 127.0.0.1:port (tests).
    static func forTest(port: Int) -> (Int32, ([UInt8]) -> Void) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        _ = try? SocketAddress("127.0.0.1:\(port)", numericOnly: true).connect(fd)
        return (fd, { bytes in _ = Glibc.send(fd, bytes, bytes.count, 0) })
    }
}
