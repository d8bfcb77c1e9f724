/// The plain-text report: a heading with the joins, then a table of published tracks and one
/// of subscribers, each with a total row, then the bots that did not join.
public enum ReportText {
    public static func render(_ report: FleetFigures) -> String {
        var out: [String] = []
        let rooms = report.rooms
        out.append("Load report" + (rooms.isEmpty ? "" : ", room " + rooms.joined(separator: ", ")))
        let hosts = Set(report.runs.compactMap(\.host))
        var runs = "\(report.runs.count) run\(report.runs.count == 1 ? "" : "s")"
        if !hosts.isEmpty { runs += " on \(hosts.count) host\(hosts.count == 1 ? "" : "s")" }
        let unfinished = report.runs.filter { !$0.ended }.count
        if unfinished > 0 { runs += " (\(unfinished) without an end line)" }
        out.append(runs)
        var joins = "bots: \(report.join.joined) of \(report.join.planned) joined"
        if report.join.joinMsP50 != nil {
            joins += ", join time p50 \(FigureFormat.milliseconds(report.join.joinMsP50)), p95 \(FigureFormat.milliseconds(report.join.joinMsP95))"
        }
        if report.join.reconnections > 0 { joins += ", \(report.join.reconnections) reconnections" }
        out.append(joins)

        out.append("")
        out.append("Published tracks")
        out += publishedTable(report).lines
        out.append("")
        out.append("Subscribers")
        out += subscriberTable(report).lines
        if !report.join.notJoined.isEmpty {
            out.append("")
            out.append("Not joined")
            var table = TextTable([("BOT", .left), ("ROLE", .left), ("ATTEMPTS", .right), ("ERROR", .left)])
            for bot in report.join.notJoined {
                table.add([bot.bot, bot.role ?? "-", bot.joinAttempts.map(String.init) ?? "-", bot.error ?? "-"])
            }
            out += table.lines
        }
        return out.joined(separator: "\n") + "\n"
    }

    static func publishedTable(_ report: FleetFigures) -> TextTable {
        var table = TextTable([("BOT", .left), ("KIND", .left), ("CODEC", .left), ("TRACK", .left), ("DURATION", .right),
                               ("PACKETS", .right), ("BITRATE", .right), ("LOSS", .right), ("NACKS", .right), ("PLIS", .right)])
        for track in report.published {
            let f = track.figures
            table.add([track.bot, f.kind, f.codec ?? "-", TrackTotals.shortID(f.track), FigureFormat.seconds(f.elapsedS ?? f.intervalS),
                       String(f.packets), FigureFormat.bitrate(f.bitrate), FigureFormat.percent(f.loss), String(f.nacks), String(f.plis)])
        }
        let t = PublishedTotals(report.published)
        table.add(["total", "", "", "\(t.tracks) track\(t.tracks == 1 ? "" : "s")", "", String(t.packets),
                   FigureFormat.bitrate(t.bitrate), FigureFormat.percent(t.loss), String(t.nacks), String(t.plis)])
        return table
    }

    static func subscriberTable(_ report: FleetFigures) -> TextTable {
        var table = TextTable([("BOT", .left), ("TRACKS", .right), ("PACKETS", .right), ("BITRATE IN", .right), ("LOSS", .right),
                               ("FREEZES", .right), ("DELAY P50", .right), ("DELAY P95", .right)])
        for s in report.subscribers {
            table.add([s.bot, String(s.tracks.count), String(s.packets), FigureFormat.bitrate(s.bitrate), FigureFormat.percent(s.loss),
                       String(s.freezes), FigureFormat.milliseconds(s.delayMsP50), FigureFormat.milliseconds(s.delayMsP95)])
        }
        let t = SubscriberTotals(report.subscribers)
        table.add(["total", String(t.tracks), String(t.packets), FigureFormat.bitrate(t.bitrate), FigureFormat.percent(t.loss),
                   String(t.freezes), FigureFormat.milliseconds(t.delayMsP50), FigureFormat.milliseconds(t.delayMsP95)])
        return table
    }
}
