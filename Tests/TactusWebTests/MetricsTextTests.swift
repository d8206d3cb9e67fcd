import Testing
@testable import TactusWeb

@Suite struct MetricsTextTests {
    @Test func exposition() {
        var m = MetricsText()
        m.add("tactus_beats_total", .counter, "Beats sent.", 12)
        m.add("tactus_output_errors_total", .counter, "Per sink.", [([("sink", "osc \"a\"\\b")], 3)])
        #expect(m.text == """
            # HELP tactus_beats_total Beats sent.
            # TYPE tactus_beats_total counter
            tactus_beats_total 12
            # HELP tactus_output_errors_total Per sink.
            # TYPE tactus_output_errors_total counter
            tactus_output_errors_total{sink="osc \\"a\\"\\\\b"} 3

            """)
    }
}
