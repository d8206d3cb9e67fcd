import TactusIO
import Testing

/// `tactus monitor`'s view of the daemon's JSON lines (issue 18, item 6): whatever comes over the
/// socket, render() never traps, and unusable numbers show as "—".
@Suite struct MonitorViewTests {
    let now: Int64 = 1_000_000_000_000

    func view(_ lines: String...) -> MonitorView {
        var v = MonitorView()
        for line in lines { v.ingest(Array((line + "\n").utf8), now: now) }
        return v
    }

    let good = #"{"v":1,"event":"status","tempo":121.95,"confidence":0.934,"beats":25,"xruns":1,"dropped":2}"#

    @Test func normalLinesUpdateTheView() {
        var v = view(good)
        #expect(v.tempo == 121.95 && v.confidence == 0.934 && v.beats == 25 && v.xruns == 1 && v.dropped == 2)
        let screen = v.render(now: now)
        #expect(screen.contains("  122.0 BPM") && screen.contains("0.93") && screen.contains("locked"))
        #expect(screen.contains("beats 25  xruns 1  dropped 2") && !screen.contains("—"))
        v.ingest(Array((#"{"v":1,"event":"beat","time":12.3,"tempo":90,"count":3,"predicted":true}"# + "\n").utf8),
                 now: now)
        #expect(v.tempo == 90 && v.lastBeat == now && v.lastPredicted)
        #expect(v.render(now: now + 50_000_000).contains("BEAT"))
        #expect(!v.render(now: now + 500_000_000).contains("BEAT"))
        // A line split over several reads, and two lines in one read.
        var w = MonitorView()
        let bytes = Array((good + "\n" + good.replacing("121.95", with: "60.5") + "\n").utf8)
        for chunk in stride(from: 0, to: bytes.count, by: 7) {
            w.ingest(bytes[chunk..<min(bytes.count, chunk + 7)], now: now)
        }
        #expect(w.tempo == 60.5 && w.beats == 25 && w.unreadableLines == 0)
    }

    @Test(arguments: ["1e300", "1e308", "-1e308", "1.8e308", "1e400", "0", "-120", "1001",
                      #""NaN""#, #""Infinity""#, #""-Infinity""#, #""120""#, "null", "true", "[120]"])
    func unusableTempoShowsADash(tempo: String) {
        let v = view(good, #"{"v":1,"event":"status","tempo":"# + tempo + "}")
        #expect(v.tempo == nil)
        #expect(v.beats == 25, "the other fields stay")
        let screen = v.render(now: now)
        #expect(screen.contains("— BPM"))
        // A beat line with such a tempo still flashes, and the phase is not extrapolated from it.
        let b = view(good, #"{"v":1,"event":"beat","tempo":"# + tempo + "}")
        #expect(b.tempo == nil && b.lastBeat == now)
        #expect(b.render(now: now + 1_000_000).contains("\u{1B}[43m beat") && !b.render(now: now).contains("●"))
    }

    @Test(arguments: ["-1", "1.5", "1e300", "-1e308", "9223372036854775808", "99999999999999999999999999",
                      "-9223372036854775809", #""NaN""#, #""Infinity""#, #""7""#, "null"])
    func unusableCountsShowADash(count: String) {
        let v = view(good, #"{"v":1,"event":"status","beats":"# + count + #","xruns":"# + count
                      + #","dropped":"# + count + "}")
        #expect(v.beats == nil && v.xruns == nil && v.dropped == nil)
        #expect(v.render(now: now).contains("beats —  xruns —  dropped —"))
    }

    @Test func largeButValidCountsAreKept() {
        let v = view(#"{"event":"status","beats":9223372036854775807,"xruns":3.0,"dropped":1e3}"#)
        #expect(v.beats == Int.max && v.xruns == 3 && v.dropped == 1000)
        #expect(v.render(now: now).contains("beats 9223372036854775807"))
    }

    @Test(arguments: ["-0.5", "1.5", "1e300", "-1e308", #""NaN""#, #""Infinity""#])
    func unusableConfidenceShowsADash(confidence: String) {
        let v = view(good, #"{"v":1,"event":"status","confidence":"# + confidence + "}")
        #expect(v.confidence == nil && v.tempo == 121.95)
        let screen = v.render(now: now)
        #expect(screen.contains("····················    —  unlocked"))
    }

    @Test func noticeTimesAndTextAreChecked() {
        var v = view(#"{"event":"notice","kind":"lock","time":1e308,"message":"a\u001b[2Jb"}"#,
                     #"{"event":"notice","kind":"xrun","time":61.23,"message":"gap"}"#)
        let notices = v.takeNotices()
        #expect(notices.count == 2 && v.locked == true)
        #expect(notices[0].hasPrefix("        — s  lock: a") && !notices[0].contains("\u{1B}"))
        #expect(notices[1] == "    61.23 s  xrun: gap")
        #expect(v.takeNotices().isEmpty)
    }

    /// A line without a newline is held up to 64 KiB, then dropped up to its newline.
    @Test func endlessLineIsBoundedAndSkipped() {
        var v = view(good)
        let junk = [UInt8](repeating: UInt8(ascii: "x"), count: 10_000)
        for _ in 0..<1_000 { v.ingest(junk, now: now) }  // 10 MB, no newline
        #expect(v.overlongLines == 1)
        v.ingest(Array("still the same line\n".utf8), now: now)
        v.ingest(Array((good.replacing("121.95", with: "99") + "\n").utf8), now: now)
        #expect(v.tempo == 99 && v.overlongLines == 1)
        #expect(v.render(now: now).contains("bad lines 1"))
        // A long line that ends within one read is skipped too; one just under the limit is read.
        var w = MonitorView()
        w.ingest(Array(("{\"event\":\"status\",\"tempo\":80,\"pad\":\""
                        + String(repeating: "p", count: 70_000) + "\"}\n" + good + "\n").utf8), now: now)
        #expect(w.overlongLines == 1 && w.tempo == 121.95)
        let padded = "{\"event\":\"status\",\"tempo\":80,\"pad\":\"" + String(repeating: "p", count: 65_000) + "\"}"
        #expect(padded.utf8.count < MonitorView.maxLineBytes)
        w.ingest(Array(padded.utf8), now: now)
        w.ingest(Array("\n".utf8), now: now)
        #expect(w.tempo == 80 && w.overlongLines == 1)
    }

    @Test func invalidUTF8AndGarbageAreCountedNotShown() {
        var v = view(good)
        v.ingest([0x7B, 0x22, 0x65, 0xFF, 0xFE, 0x22, 0x3A, 0x31, 0x7D, 0x0A], now: now)  // {"e\xFF\xFE":1}
        let notice = Array("{\"event\":\"notice\",\"kind\":\"x\",\"message\":\"".utf8)
        v.ingest(notice + [0xC3, 0x28] + Array("\"}\n".utf8), now: now)
        v.ingest(Array("not json\n[1,2]\n\u{0}\u{0}\n{\"event\":\"status\",\"tempo\":NaN}\n\n".utf8), now: now)
        #expect(v.tempo == 121.95)
        #expect(v.unreadableLines >= 4)
        _ = v.render(now: now)
        _ = v.takeNotices()
    }

    /// The clock is the caller's: any pair of values renders.
    @Test func extremeClockValuesRender() {
        var v = view(good)
        v.ingest(Array(#"{"event":"beat","tempo":1000}"#.utf8 + [0x0A]), now: .min)
        _ = v.render(now: .max)
        _ = v.render(now: .min)
        v.ingest(Array(#"{"event":"beat","tempo":1000}"#.utf8 + [0x0A]), now: .max)
        _ = v.render(now: .min)
        #expect(v.render(now: .max).contains("1000.0 BPM"))
    }
}
