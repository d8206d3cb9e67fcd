/// OSC 1.0 decoding, for packets that come in from the network (control commands): untrusted
/// bytes, so every length is checked against what is left, strings must end in the packet,
/// bundles nest at most `maxDepth` deep, and anything malformed is nil, never a trap.
extension OSCPacket {
    public static let maxDepth = 4

    /// The packet in `bytes` (one UDP datagram), or nil when it is not well-formed OSC.
    public static func decode(_ bytes: [UInt8]) -> OSCPacket? {
        bytes.withUnsafeBufferPointer { b in
            var r = OSCReader(bytes: b)
            guard let p = r.packet(length: b.count, depth: 0), r.offset == b.count else { return nil }
            return p
        }
    }
}

private struct OSCReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var offset = 0

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    mutating func packet(length: Int, depth: Int) -> OSCPacket? {
        guard depth <= OSCPacket.maxDepth, length >= 4, length % 4 == 0 else { return nil }
        let end = offset + length
        guard end <= bytes.count else { return nil }
        if bytes[offset] == UInt8(ascii: "#") {
            guard string() == "#bundle", let seconds = u32(), let fraction = u32() else { return nil }
            var elements: [OSCPacket] = []
            while offset < end {
                guard let size = u32(), size > 0, Int(size) <= end - offset,
                      let e = packet(length: Int(size), depth: depth + 1) else { return nil }
                elements.append(e)
            }
            return .bundle(timetag: OSCTimeTag(seconds: seconds, fraction: fraction), elements: elements)
        }
        guard let address = string(), address.hasPrefix("/") else { return nil }
        var arguments: [OSCArgument] = []
        // A message without a type tag string (old senders) has no arguments.
        if offset < end {
            guard let tags = string(), tags.hasPrefix(",") else { return nil }
            for tag in tags.utf8.dropFirst() where !argument(tag, into: &arguments) { return nil }
        }
        guard offset == end else { return nil }
        return .message(address: address, arguments: arguments)
    }

    /// Reads one argument of type `tag` into `arguments` (N nil and I impulse carry nothing);
    /// false when it is malformed or of an unknown type.
    private mutating func argument(_ tag: UInt8, into arguments: inout [OSCArgument]) -> Bool {
        let a: OSCArgument?
        switch tag {
        case UInt8(ascii: "i"): a = u32().map { .int32(Int32(bitPattern: $0)) }
        case UInt8(ascii: "f"): a = u32().map { .float32(Float(bitPattern: $0)) }
        case UInt8(ascii: "d"): a = u64().map { .float32(Float(Double(bitPattern: $0))) }
        case UInt8(ascii: "h"): a = u64().map { .int32(Int32(clamping: Int64(bitPattern: $0))) }
        case UInt8(ascii: "s"), UInt8(ascii: "S"): a = string().map { .string($0) }
        case UInt8(ascii: "T"): a = .bool(true)
        case UInt8(ascii: "F"): a = .bool(false)
        case UInt8(ascii: "N"), UInt8(ascii: "I"): return true
        case UInt8(ascii: "t"):
            guard let s = u32(), let f = u32() else { return false }
            a = .timetag(OSCTimeTag(seconds: s, fraction: f))
        case UInt8(ascii: "b"):
            guard let n = u32(), Int(n) <= bytes.count - offset else { return false }
            let blob = Array(bytes[offset..<offset + Int(n)])
            offset += (Int(n) + 3) & ~3
            guard offset <= bytes.count else { return false }
            a = .blob(blob)
        default: return false
        }
        guard let a else { return false }
        arguments.append(a)
        return true
    }

    private mutating func u32() -> UInt32? {
        guard bytes.count - offset >= 4 else { return nil }
        let v = bytes[offset..<offset + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        offset += 4
        return v
    }

    private mutating func u64() -> UInt64? {
        guard let hi = u32(), let lo = u32() else { return nil }
        return UInt64(hi) << 32 | UInt64(lo)
    }

    /// A NUL-terminated string padded to 4 bytes; invalid UTF-8 is replaced.
    private mutating func string() -> String? {
        guard let nul = bytes[offset...].firstIndex(of: 0) else { return nil }
        let s = String(decoding: UnsafeBufferPointer(rebasing: bytes[offset..<nul]), as: UTF8.self)
        let next = (nul + 4) & ~3
        guard next <= bytes.count else { return nil }
        offset = next
        return s
    }
}
