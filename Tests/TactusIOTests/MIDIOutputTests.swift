import Foundation
import Glibc
import TactusCore
import Testing
@testable import TactusIO

/// RTP-MIDI packets byte for byte (AppleMIDI session protocol, RFC 6295 data packets), and the
/// ALSA sequencer sink where the sequencer exists.
@Suite struct MIDIOutputTests {
    @Test func sessionPacketsMatchTheProtocolLayout() throws {
        // IN: FFFF 'I''N', version 2, token, SSRC, name NUL-terminated.
        let invitation = AppleMIDIPacket.invitation(token: 0x0102_0304, ssrc: 0xA1B2_C3D4, name: "Tactus")
        #expect(invitation.encoded == [0xFF, 0xFF, 0x49, 0x4E, 0, 0, 0, 2, 1, 2, 3, 4, 0xA1, 0xB2, 0xC3, 0xD4]
                + Array("Tactus".utf8) + [0])
        // CK: FFFF 'C''K', SSRC, count, 3 bytes padding, three 64-bit timestamps.
        let sync = AppleMIDIPacket.sync(ssrc: 7, count: 1, timestamps: [1, 0x0000_0001_0000_0002, 3])
        #expect(sync.encoded == [0xFF, 0xFF, 0x43, 0x4B, 0, 0, 0, 7, 1, 0, 0, 0,
                                 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3])
        #expect(AppleMIDIPacket.end(token: 5, ssrc: 6).encoded
                == [0xFF, 0xFF, 0x42, 0x59, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0, 6])
        for packet in [invitation, sync, .accepted(token: 9, ssrc: 10, name: "peer"), .rejected(token: 1, ssrc: 2),
                       .end(token: 3, ssrc: 4), .feedback(ssrc: 11, sequence: 0xBEEF)] {
            #expect(AppleMIDIPacket.decode(packet.encoded) == packet)
        }
        #expect(AppleMIDIPacket.decode([0xFF, 0xFF, 0x49, 0x4E, 0, 0, 0, 2]) == nil, "truncated")
        // Found by the fuzzer: a name of invalid UTF-8, longer than 63 bytes. Decoding replaces
        // the bad bytes; encoding cuts at a character boundary; from then on it is stable.
        let hostile: [UInt8] = [0xFF, 0xFF, 0x49, 0x4E, 0, 0, 0, 2, 1] + [UInt8](repeating: 0xFF, count: 26)
            + [0x01, 0xAC, 0x04] + Array("pymidi".utf8) + [0]
        let decoded = try #require(AppleMIDIPacket.decode(hostile))
        let again = try #require(AppleMIDIPacket.decode(decoded.encoded))
        #expect(again.encoded == decoded.encoded && again.encoded.count <= 16 + 63 + 1)
        #expect(String(decoding: AppleMIDIPacket.nameBytes(String(repeating: "é", count: 40)), as: UTF8.self)
                == String(repeating: "é", count: 31))
        #expect(AppleMIDIPacket.decode([0x80, 0xE1, 0, 1]) == nil, "an RTP packet is not a session packet")
        #expect(AppleMIDIPacket.decode(Array(repeating: 0xFF, count: 3)) == nil)
    }

    @Test func dataPacketCarriesOneMessage() {
        // RTP: V=2, M=1, PT=0x61, sequence, timestamp, SSRC; then the command section header
        // (B=0 J=0 Z=0 P=0, length 1) and the timing clock byte.
        let p = RTPMIDIPacket.encode([0xF8], sequence: 0x1234, timestamp: 0x0A0B_0C0D, ssrc: 0x0102_0304)
        #expect(p == [0x80, 0xE1, 0x12, 0x34, 0x0A, 0x0B, 0x0C, 0x0D, 0x01, 0x02, 0x03, 0x04, 0x01, 0xF8])
        let spp = RTPMIDIPacket.encode(MIDIClockEvent(kind: .songPosition(300), time: 0).bytes,
                                       sequence: 0, timestamp: 0, ssrc: 0)
        #expect(Array(spp.suffix(4)) == [0x03, 0xF2, UInt8(300 & 0x7F), UInt8(300 >> 7)])
    }

    @Test func aSessionWithoutAPeerNeverBlocksAndSendsNothing() throws {
        let session = try RTPMIDISession(peer: "127.0.0.1:9")  // discard port: nobody answers
        let start = MonotonicClock.nanos()
        for i in 0..<100 { session.service(nowNanos: start + Int64(i) * 50_000_000) }
        #expect(!session.send([0xF8], nowNanos: MonotonicClock.nanos()))
        #expect(session.state == .invitingControl)
        #expect(MonotonicClock.nanos() - start < 500_000_000, "100 service calls without waiting")
        #expect(throws: OutputError.self) { try RTPMIDISession(peer: "no-port") }
    }

    static let sequencerPresent = access("/dev/snd/seq", R_OK | W_OK) == 0

    @Test(.enabled(if: !sequencerPresent, "/dev/snd/seq exists here: the sink test below runs instead"))
    func sequencerSinkSaysWhyItCannotOpen() {
        #expect {
            _ = try ALSASequencerSink()
        } throws: { error in
            "\(error)".contains("ALSA sequencer") && "\(error)".contains("/dev/snd/seq is absent")
        }
    }

    @Test(.enabled(
        if: sequencerPresent,
        "/dev/snd/seq is absent (no sound card, snd-seq not loaded): the ALSA sequencer sink cannot be tested here"))
    func sequencerSinkSchedulesClockMessages() throws {
        let sink = try ALSASequencerSink(clientName: "tactus-test")
        let now = MonotonicClock.nanos()
        for (i, m) in [[0xFA], [0xF8], [0xF8], [0xF2, 0x10, 0x01], [0xFC]].enumerated() {
            #expect(sink.send(m.map(UInt8.init), at: now + Int64(i) * 20_000_000))
        }
        #expect(sink.sent == 5 && sink.errors == 0)
    }
}
