import Foundation

/// One figure over time as an inline SVG line chart: a line per series, or, when there are
/// too many series to tell apart, their spread per second (max, p95, median, min). Hovering a
/// line shows its name (an SVG `<title>`, no script).
struct LineChart {
    struct Series {
        var label: String
        /// (seconds, value); nil values break the line.
        var points: [(t: Double, value: Double?)]
    }

    var title: String
    var unit: String
    var series: [Series]
    /// More lines than this become the spread.
    var maxLines = 12

    static let palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#79706e", "#1f77b4", "#d62728"]
    static let width = 760.0, height = 240.0
    static let left = 60.0, right = 16.0, top = 14.0, bottom = 34.0
    /// Points per line at most: a long run is averaged down to this.
    static let maxPoints = 600

    /// The lines drawn and their legend entries.
    private var drawn: (lines: [Series], note: String?) {
        guard series.count > maxLines else { return (series, nil) }
        return (Self.spread(series), "spread over \(series.count) lines, per second")
    }

    /// `<figure>` with a heading, the SVG and the legend.
    func html() -> String {
        let (lines, note) = drawn
        var out = "<figure class=\"chart\">\n<figcaption>\(HTMLText.escape(title)) <span class=\"unit\">(\(HTMLText.escape(unit)))</span>"
        if let note { out += " <span class=\"note\">\(HTMLText.escape(note))</span>" }
        out += "</figcaption>\n"
        out += svg(lines)
        if !lines.isEmpty {
            out += "<ul class=\"legend\">"
            for (index, line) in lines.enumerated() {
                out += "<li><span class=\"swatch\" style=\"border-top: 3px \(Self.dash(index) == nil ? "solid" : "dashed") \(Self.color(index))\"></span>\(HTMLText.escape(line.label))</li>"
            }
            out += "</ul>\n"
        }
        return out + "</figure>\n"
    }

    static func color(_ index: Int) -> String { palette[index % palette.count] }
    static func dash(_ index: Int) -> String? { (index / palette.count) % 2 == 1 ? "6 3" : nil }

    private func svg(_ lines: [Series]) -> String {
        let w = Self.width, h = Self.height
        let plotW = w - Self.left - Self.right, plotH = h - Self.top - Self.bottom
        let values = lines.flatMap { $0.points.compactMap(\.value) }.filter(\.isFinite)
        let times = lines.flatMap { $0.points.map(\.t) }.filter(\.isFinite)
        var out = "<svg class=\"plot\" width=\"\(Int(w))\" height=\"\(Int(h))\" viewBox=\"0 0 \(Int(w)) \(Int(h))\" role=\"img\" aria-label=\"\(HTMLText.escape(title))\">\n"
        out += "<title>\(HTMLText.escape(title))</title>\n"
        guard !values.isEmpty else {
            out += "<text x=\"\(Int(w / 2))\" y=\"\(Int(h / 2))\" text-anchor=\"middle\" class=\"empty\">no data</text>\n</svg>\n"
            return out
        }
        let yScale = ChartScale(upTo: values.max() ?? 1, whole: unit == "count")
        let xScale = ChartScale(upTo: max(times.max() ?? 1, 1), count: 8)
        func x(_ t: Double) -> Double { Self.left + min(max(0, t), xScale.maximum) / xScale.maximum * plotW }
        func y(_ v: Double) -> Double { Self.top + plotH - min(max(v, 0), yScale.maximum) / yScale.maximum * plotH }

        out += "<g class=\"grid\">\n"
        for tick in yScale.ticks {
            let py = Self.format(y(tick))
            out += "<line x1=\"\(Self.format(Self.left))\" y1=\"\(py)\" x2=\"\(Self.format(w - Self.right))\" y2=\"\(py)\"/>"
            out += "<text x=\"\(Self.format(Self.left - 6))\" y=\"\(py)\" dy=\"4\" text-anchor=\"end\">\(yScale.label(tick))</text>\n"
        }
        for tick in xScale.ticks {
            let px = Self.format(x(tick))
            out += "<line x1=\"\(px)\" y1=\"\(Self.format(Self.top))\" x2=\"\(px)\" y2=\"\(Self.format(Self.top + plotH))\"/>"
            out += "<text x=\"\(px)\" y=\"\(Self.format(h - Self.bottom + 16))\" text-anchor=\"middle\">\(xScale.label(tick))</text>\n"
        }
        out += "<text x=\"\(Self.format(w - Self.right))\" y=\"\(Self.format(h - 2))\" text-anchor=\"end\">seconds</text>\n"
        out += "</g>\n"

        for (index, line) in lines.enumerated() {
            let dash = Self.dash(index).map { " stroke-dasharray=\"\($0)\"" } ?? ""
            out += "<g class=\"line\" stroke=\"\(Self.color(index))\"\(dash)><title>\(HTMLText.escape(line.label))</title>"
            for segment in Self.segments(Self.thinned(line.points)) {
                if segment.count == 1, let only = segment.first {
                    out += "<circle cx=\"\(Self.format(x(only.t)))\" cy=\"\(Self.format(y(only.value)))\" r=\"2\" fill=\"\(Self.color(index))\"/>"
                } else {
                    let points = segment.map { "\(Self.format(x($0.t))),\(Self.format(y($0.value)))" }.joined(separator: " ")
                    out += "<polyline points=\"\(points)\"/>"
                }
            }
            out += "</g>\n"
        }
        return out + "</svg>\n"
    }

    /// Runs of points without a gap.
    static func segments(_ points: [(t: Double, value: Double?)]) -> [[(t: Double, value: Double)]] {
        var segments: [[(t: Double, value: Double)]] = []
        var current: [(t: Double, value: Double)] = []
        for point in points {
            if let value = point.value, value.isFinite, point.t.isFinite {
                current.append((point.t, value))
            } else if !current.isEmpty {
                segments.append(current)
                current = []
            }
        }
        if !current.isEmpty { segments.append(current) }
        return segments
    }

    /// At most `maxPoints` points: consecutive points averaged in equal groups.
    static func thinned(_ points: [(t: Double, value: Double?)]) -> [(t: Double, value: Double?)] {
        guard points.count > maxPoints else { return points }
        let group = Int((Double(points.count) / Double(maxPoints)).rounded(.up))
        return stride(from: 0, to: points.count, by: group).map { start in
            let slice = points[start..<min(start + group, points.count)]
            let values = slice.compactMap(\.value)
            let t = slice.map(\.t).reduce(0, +) / Double(slice.count)
            return (t, values.isEmpty ? nil : values.reduce(0, +) / Double(values.count))
        }
    }

    /// Max, p95, median and min over all series, per whole second.
    static func spread(_ series: [Series]) -> [Series] {
        var bins: [Int: [Double]] = [:]
        for line in series {
            for point in line.points {
                guard let value = point.value, value.isFinite, let second = Int(flooring: point.t) else { continue }
                bins[second, default: []].append(value)
            }
        }
        let seconds = bins.keys.sorted()
        func line(_ label: String, _ pick: ([Double]) -> Double?) -> Series {
            Series(label: label, points: seconds.map { second in (Double(second), bins[second].flatMap(pick)) })
        }
        return [line("max") { $0.max() }, line("p95") { Percentile.of($0, 0.95) },
                line("median") { Percentile.of($0, 0.5) }, line("min") { $0.min() }]
    }

    /// Coordinates with one decimal: enough for a screen, short in the file.
    static func format(_ value: Double) -> String {
        String(format: "%.1f", value)
    }
}
