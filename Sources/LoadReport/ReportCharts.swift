/// The charts of the HTML report: what each shows and how its lines are made from the
/// per-track series.
enum ReportCharts {
    static func all(_ report: FleetFigures) -> [(section: String, charts: [LineChart])] {
        let sent = report.series.filter { $0.direction == .send }
        let received = report.series.filter { $0.direction == .receive }
        let bySubscriber = subscriberSeries(received)
        return [
            ("Published tracks", [
                // Video and audio apart: on one axis audio's tens of kbps would lie flat under video's hundreds.
                LineChart(title: "Bitrate sent, per video track", unit: "kbps", series: kbps(sent.filter { $0.kind == "video" })),
                LineChart(title: "Bitrate sent, per audio track", unit: "kbps", series: kbps(sent.filter { $0.kind != "video" })),
                LineChart(title: "Loss reported by the SFU, per track", unit: "%", series: sent.map { line($0) { $0.loss.map { $0 * 100 } } }),
            ]),
            ("Subscribers", [
                LineChart(title: "Bitrate received, per subscriber", unit: "kbps",
                          series: bySubscriber.map { s in LineChart.Series(label: s.label, points: s.bins.map { ($0.t, $0.bitrate / 1000) }) }),
                LineChart(title: "Loss, per subscriber", unit: "%",
                          series: bySubscriber.map { s in LineChart.Series(label: s.label, points: s.bins.map { ($0.t, $0.loss.map { $0 * 100 }) }) }),
                LineChart(title: "Freezes so far, per subscriber", unit: "count",
                          series: bySubscriber.map { s in LineChart.Series(label: s.label, points: cumulative(s.bins.map { ($0.t, Double($0.freezes)) })) }),
                LineChart(title: "Delay p95, per subscriber", unit: "ms",
                          series: bySubscriber.map { s in LineChart.Series(label: s.label, points: s.bins.map { ($0.t, $0.delayMsP95) }) }),
            ]),
            ("Received tracks", [
                LineChart(title: "Bitrate, per received video track", unit: "kbps", series: kbps(received.filter { $0.kind == "video" })),
                LineChart(title: "Bitrate, per received audio track", unit: "kbps", series: kbps(received.filter { $0.kind != "video" })),
                LineChart(title: "Loss, per received track", unit: "%", series: received.map { line($0) { $0.loss.map { $0 * 100 } } }),
                LineChart(title: "Freezes so far, per received video track", unit: "count",
                          series: received.filter { $0.kind == "video" }.map { s in
                              LineChart.Series(label: s.label, points: cumulative(s.points.map { ($0.t, Double($0.freezes)) }))
                          }),
                LineChart(title: "Delay p95, per received track", unit: "ms", series: received.map { line($0) { $0.delayMsP95 } }),
            ]),
        ]
    }

    private static func kbps(_ series: [TrackSeries]) -> [LineChart.Series] {
        series.map { line($0) { $0.bitrate.map { $0 / 1000 } } }
    }

    private static func line(_ series: TrackSeries, _ value: (SeriesPoint) -> Double?) -> LineChart.Series {
        LineChart.Series(label: series.label, points: series.points.map { ($0.t, value($0)) })
    }

    private static func cumulative(_ points: [(t: Double, value: Double)]) -> [(t: Double, value: Double?)] {
        var sum = 0.0
        return points.map { point in
            sum += point.value
            return (point.t, sum)
        }
    }

    /// One subscriber's tracks added up per whole second.
    struct SubscriberBin {
        var t: Double
        var bitrate = 0.0
        var packets = 0
        var lost = 0
        var freezes = 0
        var delayMsP95: Double?
        var loss: Double? { TrackAggregation.lossRatio(direction: .receive, lost: lost, packets: packets) }
    }

    struct SubscriberSeries {
        var label: String
        var bins: [SubscriberBin]
    }

    static func subscriberSeries(_ received: [TrackSeries]) -> [SubscriberSeries] {
        var order: [String] = []
        var grouped: [String: (bot: String, tracks: [TrackSeries])] = [:]
        for series in received {
            let key = series.run + "\u{0}" + series.bot
            if grouped[key] == nil { order.append(key) }
            grouped[key, default: (series.bot, [])].tracks.append(series)
        }
        return order.compactMap { key in
            guard let group = grouped[key] else { return nil }
            var bins: [Int: SubscriberBin] = [:]
            for point in group.tracks.flatMap(\.points) {
                // A time no Int holds (an absurd `elapsed_s`) has no second to go in.
                guard let second = Int(flooring: point.t) else { continue }
                var bin = bins[second] ?? SubscriberBin(t: Double(second))
                bin.bitrate += point.bitrate ?? 0
                bin.packets = bin.packets.addingSaturated(point.packets)
                bin.lost = bin.lost.addingSaturated(point.packetsLost)
                bin.freezes = bin.freezes.addingSaturated(point.freezes)
                // The worst track of the second: p95s do not add up.
                if let p95 = point.delayMsP95 { bin.delayMsP95 = max(bin.delayMsP95 ?? p95, p95) }
                bins[second] = bin
            }
            return SubscriberSeries(label: "bot \(group.bot)", bins: bins.keys.sorted().compactMap { bins[$0] })
        }
    }
}
