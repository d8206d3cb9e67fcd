import Testing
@testable import TactusCore

/// Number formatting for messages: `String(cFormat:)` and the byte writer must agree with printf.
struct NumberTextTests {
    @Test func cFormatMatchesPrintfShortAndLong() {
        #expect(String(cFormat: "%.3f|%d|%02X", 0.1236, 42, 10) == "0.124|42|0A")
        let long = String(cFormat: "%0300d", 7)
        #expect(long.count == 300 && long.hasSuffix("07") && long.hasPrefix("000"))
    }

    @Test func decimalTextAgreesWithPrintf() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<5000 {
            let v = (Double(rng.next() % 2_000_000) - 1_000_000) / Double(1 + rng.next() % 10_000)
            for d in [0, 1, 3, 4] {
                var out = [UInt8]()
                DecimalText.append(v, decimals: d, to: &out)
                let expected = String(cFormat: "%.\(d)f", v)
                // Equal text, or equal numbers ("-0.000" against "0.000"), or a tie rounded the
                // other way (printf rounds the binary value; the writer the scaled one).
                let got = String(decoding: out, as: UTF8.self)
                var scale = 1.0
                for _ in 0..<d { scale *= 10 }
                let scaled = abs(v * scale)
                let tie = abs(scaled - scaled.rounded(.down) - 0.5) < 1e-6
                let a = Double(got)!, b = Double(expected)!
                #expect(got == expected || a == b || (tie && abs(a - b) * scale < 1.0001),
                        "\(v) with \(d): \(got) vs \(expected)")
            }
        }
    }

    @Test func decimalTextEdges() {
        func text(_ v: Double, _ d: Int) -> String {
            var out = [UInt8]()
            DecimalText.append(v, decimals: d, to: &out)
            return String(decoding: out, as: UTF8.self)
        }
        #expect(text(0, 3) == "0.000")
        #expect(text(0.25, 3) == "0.250")
        #expect(text(1, 0) == "1")
        #expect(text(-0.0004, 3) == "0.000")
        #expect(text(-1.5, 1) == "-1.5")
        #expect(text(123456.78905, 4) == "123456.7891")
        #expect(text(.nan, 3) == "0.000")
        #expect(text(.infinity, 2) == "0.00")
        #expect(text(1e300, 2) == "0.00")
    }
}
