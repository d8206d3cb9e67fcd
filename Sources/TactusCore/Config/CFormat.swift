import Glibc

extension String {
    /// printf-style formatting of numbers (`%.3f`, `%d`, `%02X`, ...) through vsnprintf: the
    /// daemon stays clear of Foundation, whose `String(format:)` would bring it along. Strings
    /// are interpolated by the caller (no `%s`/`%@`).
    public init(cFormat format: String, _ arguments: CVarArg...) {
        self = Self.formatted(format, arguments)
    }

    private static func formatted(_ format: String, _ arguments: [CVarArg]) -> String {
        // Short results (nearly all) are formatted on the stack: no buffer to allocate.
        let short = withUnsafeTemporaryAllocation(of: CChar.self, capacity: 256) { buffer -> String? in
            let needed = Int(withVaList(arguments) { vsnprintf(buffer.baseAddress, buffer.count, format, $0) })
            guard needed < buffer.count else { return nil }
            return buffer.withMemoryRebound(to: UInt8.self) {
                String(decoding: UnsafeBufferPointer(rebasing: $0.prefix(Swift.max(0, needed))), as: UTF8.self)
            }
        }
        if let short { return short }
        var buffer = [CChar](repeating: 0, count: 256)
        let needed = Int(withVaList(arguments) { vsnprintf(&buffer, buffer.count, format, $0) })
        buffer = [CChar](repeating: 0, count: needed + 1)
        _ = withVaList(arguments) { vsnprintf(&buffer, buffer.count, format, $0) }
        return String(decoding: buffer.prefix(Swift.max(0, needed)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Fixed-point decimal text appended to a byte buffer, for messages built many times a second
/// (the web page's activation updates): no format string, no allocation beyond the buffer's.
public enum DecimalText {
    /// Appends `value` rounded to `decimals` places (0...9), e.g. 0.25 with 3 → "0.250".
    /// Values that do not fit 15 significant digits (or are not finite) are written as 0.
    public static func append(_ value: Double, decimals: Int, to out: inout [UInt8]) {
        let d = Swift.min(Swift.max(decimals, 0), 9)
        var scale = 1.0
        for _ in 0..<d { scale *= 10 }
        let scaled = (value * scale).rounded()
        guard scaled.isFinite, abs(scaled) < 1e15 else {
            append(0, decimals: d, to: &out)
            return
        }
        var n = Int64(scaled)
        if n < 0 {
            out.append(UInt8(ascii: "-"))
            n = -n
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { b in
            repeat {
                b[count] = UInt8(ascii: "0") + UInt8(n % 10)
                n /= 10
                count += 1
            } while n > 0 || count <= d
            for i in stride(from: count - 1, through: 0, by: -1) {
                out.append(b[i])
                if i == d && d > 0 { out.append(UInt8(ascii: ".")) }
            }
        }
    }
}
