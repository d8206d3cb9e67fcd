import NIOCore
import Testing
import TactusIO
@testable import TactusWeb

/// The pages' wire format: WebSocket text frames encoded by hand (RFC 6455 5.2) and the update
/// message, checked byte by byte and as JSON.
struct WebFrameTests {
    @Test func textFramesCarryTheirLengthInAllThreeForms() {
        for (n, header) in [(0, [0x81, 0]), (125, [0x81, 125]), (126, [0x81, 126, 0, 126]),
                            (65535, [0x81, 126, 0xFF, 0xFF]), (65536, [0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0])] {
            let text = String(repeating: "é", count: n / 2) + String(repeating: "a", count: n % 2)
            let b = WebServer.HeadWriter.frame(text, allocator: ByteBufferAllocator())
            let bytes = Array(b.readableBytesView)
            #expect(Array(bytes.prefix(header.count)) == header.map(UInt8.init), "length \(n)")
            #expect(bytes.count == header.count + n)
            #expect(Array(bytes.dropFirst(header.count)) == Array(text.utf8))
        }
    }

    @Test func updateMessageIsJSONWithTheFrames() throws {
        let frames = (0..<5).map { FrameSample(time: 10 + Double($0) * 0.01, activation: Float($0) / 8,
                                               gateOpen: $0 != 2) }
        var bytes = [UInt8]()
        let m = WebUpdates.message(frames[...], status: #"{"tempo":120}"#, into: &bytes)
        #expect(m == #"{"event":"update","t0":10.0000,"dt":0.0100,"a":[0.000,0.125,0.250,0.375,0.500],"#
                + #""gate":[1,1,0,1,1],"status":{"tempo":120}}"#)
        let empty = WebUpdates.message([][...], status: nil, into: &bytes)
        #expect(empty == #"{"event":"update","t0":0.0000,"dt":0.0100,"a":[],"gate":[]}"#)
    }
}
