import Glibc
import TactusCore
import TactusIO

/// Draws a track for a person checking a setup: activation with the beats (predicted and reactive
/// apart) and the reference beats, then tempo, then confidence with the gate. Plain SVG text.
struct SVGPlot {
    let result: TrackResult
    let reference: [Double]
    let title: String

    private let left = 60.0, right = 20.0, panelHeight = 150.0, gap = 40.0, top = 40.0

    func render() -> String {
        let frames = result.frames ?? []
        let duration = max(result.duration, 0.01)
        // About 40 px per second, so single beats stay apart; at least 1000 px.
        let width = min(max(1000, duration * 40), 40_000) + left + right
        let plotWidth = width - left - right
        let height = top + 3 * panelHeight + 3 * gap
        func x(_ t: Double) -> Double { left + t / duration * plotWidth }
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
        font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(left)" y="20" font-size="14">\(escape(title))</text>

        """
        let panels = ["activation and beats", "tempo (BPM)", "confidence (grey: gate closed)"]
        for (i, name) in panels.enumerated() {
            let y0 = top + Double(i) * (panelHeight + gap)
            svg += "<rect x=\"\(left)\" y=\"\(y0)\" width=\"\(fmt(plotWidth))\" height=\"\(panelHeight)\" "
                + "fill=\"none\" stroke=\"#999\"/>\n"
            svg += "<text x=\"\(left + 4)\" y=\"\(y0 + 14)\" fill=\"#444\">\(name)</text>\n"
        }
        // Time axis ticks every second (labels every 5 s) under each panel.
        var t = 0.0
        while t <= duration {
            for i in 0..<3 {
                let y1 = top + Double(i) * (panelHeight + gap) + panelHeight
                svg += "<line x1=\"\(fmt(x(t)))\" y1=\"\(fmt(y1))\" x2=\"\(fmt(x(t)))\" y2=\"\(fmt(y1 + 4))\" "
                    + "stroke=\"#999\"/>\n"
                if Int(t) % 5 == 0 {
                    svg += "<text x=\"\(fmt(x(t)))\" y=\"\(fmt(y1 + 16))\" text-anchor=\"middle\" fill=\"#666\">"
                        + "\(Int(t)) s</text>\n"
                }
            }
            t += 1
        }
        // Panel 1: reference beats (grey), activation, beats.
        let a0 = top
        func ya(_ v: Double) -> Double { a0 + panelHeight - v * (panelHeight - 20) }
        for r in reference where r <= duration {
            svg += "<line x1=\"\(fmt(x(r)))\" y1=\"\(fmt(a0))\" x2=\"\(fmt(x(r)))\" y2=\"\(fmt(a0 + panelHeight))\" "
                + "stroke=\"#bbb\" stroke-width=\"3\"/>\n"
        }
        svg += polyline(frames.map { (x($0.time), ya(Double($0.activation))) }, color: "#1f5fbf")
        for b in result.beats {
            let color = b.predicted ? "#1a9641" : "#e66101"
            svg += "<line x1=\"\(fmt(x(b.beatTime)))\" y1=\"\(fmt(a0 + 18))\" x2=\"\(fmt(x(b.beatTime)))\" "
                + "y2=\"\(fmt(a0 + panelHeight))\" stroke=\"\(color)\" stroke-width=\"1.5\" "
                + "class=\"\(b.predicted ? "predicted" : "reactive")\"/>\n"
        }
        svg += "<text x=\"\(fmt(width - right - 420))\" y=\"\(a0 - 6)\"><tspan fill=\"#1a9641\">| predicted</tspan>  "
            + "<tspan fill=\"#e66101\">| reactive</tspan>  <tspan fill=\"#999\">| reference</tspan>  "
            + "<tspan fill=\"#1f5fbf\">— activation</tspan></text>\n"
        // Panel 2: tempo, scaled to the range seen.
        let tempi = frames.map(\.tracker.tempo)
        let lo = (tempi.min() ?? 60) * 0.95, hi = max((tempi.max() ?? 180) * 1.05, lo + 1)
        let t0 = top + panelHeight + gap
        func yt(_ v: Double) -> Double { t0 + panelHeight - (v - lo) / (hi - lo) * (panelHeight - 20) }
        svg += "<text x=\"\(left - 6)\" y=\"\(fmt(yt(hi / 1.05)))\" text-anchor=\"end\" fill=\"#666\">"
            + "\(Int(hi / 1.05))</text>\n"
        svg += "<text x=\"\(left - 6)\" y=\"\(fmt(yt(lo / 0.95)))\" text-anchor=\"end\" fill=\"#666\">"
            + "\(Int(lo / 0.95))</text>\n"
        svg += polyline(frames.map { (x($0.time), yt($0.tracker.tempo)) }, color: "#7b3294")
        // Panel 3: gate closed spans, confidence.
        let c0 = top + 2 * (panelHeight + gap)
        var closedFrom: Double?
        for f in frames {
            if !f.gateOpen, closedFrom == nil { closedFrom = f.time }
            if f.gateOpen, let s = closedFrom {
                svg += rect(x(s), c0, x(f.time) - x(s))
                closedFrom = nil
            }
        }
        if let s = closedFrom { svg += rect(x(s), c0, x(duration) - x(s)) }
        svg += polyline(frames.map { (x($0.time), c0 + panelHeight - $0.tracker.confidence * (panelHeight - 20)) },
                        color: "#d7191c")
        svg += "</svg>\n"
        return svg
    }

    private func rect(_ x: Double, _ y: Double, _ w: Double) -> String {
        "<rect x=\"\(fmt(x))\" y=\"\(fmt(y))\" width=\"\(fmt(max(w, 0.5)))\" height=\"\(panelHeight)\" "
            + "fill=\"#ddd\"/>\n"
    }

    /// One point per pixel column (the extreme value), so long tracks stay small.
    private func polyline(_ points: [(Double, Double)], color: String) -> String {
        var kept: [(Double, Double)] = []
        for p in points {
            if let last = kept.last, Int(last.0) == Int(p.0) {
                if p.1 < last.1 { kept[kept.count - 1] = (last.0, p.1) }  // smaller y = larger value
            } else {
                kept.append(p)
            }
        }
        let coords = kept.map { "\(fmt($0.0)),\(fmt($0.1))" }.joined(separator: " ")
        return "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1\" points=\"\(coords)\"/>\n"
    }

    private func fmt(_ v: Double) -> String { String(cFormat: "%.1f", v) }

    private func escape(_ s: String) -> String {
        s.replacing("&", with: "&amp;").replacing("<", with: "&lt;")
    }
}
