/// OSC 1.0 (opensoundcontrol.org, "The Open Sound Control 1.0 Specification"): the packets Tactus
/// sends, encoded big-endian with 4-byte alignment.
public enum OSCArgument: Sendable, Equatable {
    case int32(Int32)
    case float32(Float)
    case string(String)
    case blob([UInt8])
    case bool(Bool)        // T / F: a type tag without data
    case timetag(OSCTimeTag)

    var tag: UInt8 {
        switch self {
        case .int32: return UInt8(ascii: "i")
        case .float32: return UInt8(ascii: "f")
        case .string: return UInt8(ascii: "s")
        case .blob: return UInt8(ascii: "b")
        case .bool(let b): return UInt8(ascii: b ? "T" : "F")
        case .timetag: return UInt8(ascii: "t")
        }
    }
}

/// NTP time: seconds since 1900-01-01 and a 2^-32 fraction. (0, 1) means "immediately".
public struct OSCTimeTag: Sendable, Equatable {
    public var seconds: UInt32
    public var fraction: UInt32

    public init(seconds: UInt32, fraction: UInt32) {
        self.seconds = seconds
        self.fraction = fraction
    }

    public static let immediately = OSCTimeTag(seconds: 0, fraction: 1)

    /// From Unix time (s since 1970).
    public init(unixTime: Double) {
        let ntp = unixTime + 2_208_988_800
        let whole = ntp.rounded(.down)
        seconds = UInt32(truncatingIfNeeded: Int64(whole))
        fraction = UInt32(min((ntp - whole) * 4_294_967_296, 4_294_967_295))
    }
}

public indirect enum OSCPacket: Sendable, Equatable {
    case message(address: String, arguments: [OSCArgument])
    case bundle(timetag: OSCTimeTag, elements: [OSCPacket])

    /// The packet's bytes, as sent in one UDP datagram.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        encode(into: &out)
        return out
    }

    func encode(into out: inout [UInt8]) {
        switch self {
        case .message(let address, let arguments):
            Self.appendString(address, to: &out)
            Self.appendString("," + String(decoding: arguments.map(\.tag), as: UTF8.self), to: &out)
            for a in arguments {
                switch a {
                case .int32(let v): Self.append(UInt32(bitPattern: v), to: &out)
                case .float32(let v): Self.append(v.bitPattern, to: &out)
                case .string(let s): Self.appendString(s, to: &out)
                case .blob(let b):
                    Self.append(UInt32(b.count), to: &out)
                    out += b
                    Self.pad(&out)
                case .bool: break
                case .timetag(let t): Self.append(t.seconds, to: &out); Self.append(t.fraction, to: &out)
                }
            }
        case .bundle(let timetag, let elements):
            Self.appendString("#bundle", to: &out)
            Self.append(timetag.seconds, to: &out)
            Self.append(timetag.fraction, to: &out)
            for e in elements {
                let bytes = e.encoded()
                Self.append(UInt32(bytes.count), to: &out)
                out += bytes
            }
        }
    }

    static func append(_ v: UInt32, to out: inout [UInt8]) {
        out += [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
    }

    /// OSC-string: the bytes, at least one NUL, padded with NULs to a multiple of 4.
    static func appendString(_ s: String, to out: inout [UInt8]) {
        out += Array(s.utf8)
        out.append(0)
        pad(&out)
    }

    static func pad(_ out: inout [UInt8]) {
        while out.count % 4 != 0 { out.append(0) }
    }
}
