/// AppleMIDI session packets (the session layer of RTP-MIDI, RFC 6295 with Apple's session
/// protocol): invitation (IN), accepted (OK), rejected (NO), end (BY), clock synchronisation
/// (CK) and receiver feedback (RS). Big-endian, each starting 0xFFFF and a two-letter command.
public enum AppleMIDIPacket: Equatable, Sendable {
    /// IN, OK, NO, BY: protocol version 2, the initiator's token, the sender's SSRC, and (IN, OK)
    /// a session name.
    case invitation(token: UInt32, ssrc: UInt32, name: String)
    case accepted(token: UInt32, ssrc: UInt32, name: String)
    case rejected(token: UInt32, ssrc: UInt32)
    case end(token: UInt32, ssrc: UInt32)
    /// CK: step 0 (initiator), 1 (reply), 2 (initiator); times in 100 µs units.
    case sync(ssrc: UInt32, count: UInt8, timestamps: [UInt64])
    /// RS: the highest RTP sequence number the peer received.
    case feedback(ssrc: UInt32, sequence: UInt16)

    public static let protocolVersion: UInt32 = 2

    public var encoded: [UInt8] {
        var out: [UInt8] = [0xFF, 0xFF]
        func u32(_ v: UInt32) { out += [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        func u64(_ v: UInt64) { u32(UInt32(v >> 32)); u32(UInt32(v & 0xFFFF_FFFF)) }
        func exchange(_ command: String, _ token: UInt32, _ ssrc: UInt32, _ name: String?) {
            out += Array(command.utf8)
            u32(Self.protocolVersion); u32(token); u32(ssrc)
            if let name { out += Self.nameBytes(name) + [0] }
        }
        switch self {
        case .invitation(let t, let s, let n): exchange("IN", t, s, n)
        case .accepted(let t, let s, let n): exchange("OK", t, s, n)
        case .rejected(let t, let s): exchange("NO", t, s, nil)
        case .end(let t, let s): exchange("BY", t, s, nil)
        case .sync(let s, let count, let ts):
            out += Array("CK".utf8)
            u32(s)
            out += [count, 0, 0, 0]
            for i in 0..<3 { u64(i < ts.count ? ts[i] : 0) }
        case .feedback(let s, let seq):
            out += Array("RS".utf8)
            u32(s)
            out += [UInt8(seq >> 8), UInt8(seq & 0xFF), 0, 0]
        }
        return out
    }

    /// A session name on the wire: UTF-8, cut at a character boundary to at most 63 bytes.
    static func nameBytes(_ name: String) -> [UInt8] {
        var out: [UInt8] = []
        for scalar in name.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if out.count + bytes.count > 63 { break }
            out += bytes
        }
        return out
    }

    /// Parses a session packet; nil for anything else (an RTP data packet, garbage, a truncated
    /// or oversized field). Never traps on any input (fuzzed: tools/fuzz.sh, target `applemidi`).
    public static func decode(_ bytes: [UInt8]) -> AppleMIDIPacket? {
        guard bytes.count >= 4, bytes[0] == 0xFF, bytes[1] == 0xFF else { return nil }
        func u32(_ at: Int) -> UInt32? {
            guard at >= 0, at + 4 <= bytes.count else { return nil }
            return UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8
                | UInt32(bytes[at + 3])
        }
        func u64(_ at: Int) -> UInt64? {
            guard let hi = u32(at), let lo = u32(at + 4) else { return nil }
            return UInt64(hi) << 32 | UInt64(lo)
        }
        let command = String(decoding: bytes[2..<4], as: UTF8.self)
        switch command {
        case "IN", "OK", "NO", "BY":
            guard let version = u32(4), version == protocolVersion, let token = u32(8), let ssrc = u32(12) else {
                return nil
            }
            var name = ""
            if bytes.count > 16 {
                let rest = bytes[16...].prefix { $0 != 0 }
                guard rest.count <= 255 else { return nil }
                name = String(decoding: rest, as: UTF8.self)
            }
            switch command {
            case "IN": return .invitation(token: token, ssrc: ssrc, name: name)
            case "OK": return .accepted(token: token, ssrc: ssrc, name: name)
            case "NO": return .rejected(token: token, ssrc: ssrc)
            default: return .end(token: token, ssrc: ssrc)
            }
        case "CK":
            guard let ssrc = u32(4), bytes.count >= 36, bytes[8] <= 2,
                  let t1 = u64(12), let t2 = u64(20), let t3 = u64(28) else { return nil }
            return .sync(ssrc: ssrc, count: bytes[8], timestamps: [t1, t2, t3])
        case "RS":
            guard let ssrc = u32(4), bytes.count >= 10 else { return nil }
            return .feedback(ssrc: ssrc, sequence: UInt16(bytes[8]) << 8 | UInt16(bytes[9]))
        default:
            return nil
        }
    }
}

/// An RTP-MIDI data packet (RFC 6295) carrying one MIDI message: RTP header (version 2, marker
/// set, payload type 0x61 as AppleMIDI uses, sequence number, 10 kHz timestamp, SSRC), then the
/// MIDI command section: a one-byte header (B=0, J=0: no recovery journal, Z=0, P=0, length)
/// and the message. Short messages only (clock, transport, song position: 1 or 3 bytes).
public enum RTPMIDIPacket {
    public static let payloadType: UInt8 = 0x61

    public static func encode(_ message: [UInt8], sequence: UInt16, timestamp: UInt32, ssrc: UInt32) -> [UInt8] {
        precondition(message.count <= 15, "short MIDI messages only")
        var out: [UInt8] = [0x80, 0x80 | payloadType, UInt8(sequence >> 8), UInt8(sequence & 0xFF)]
        for v in [timestamp, ssrc] {
            out += [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
        }
        out.append(UInt8(message.count))
        return out + message
    }
}
