extension Expectation {
    /// Checks the expectation at its figure's level against the report. A figure that was
    /// not measured (no packets, no delay: sender and receiver without a shared clock) is a
    /// miss, and so is an expectation that finds nothing to check: a threshold that checked
    /// nothing must not pass a load test that did not run.
    public func evaluate(_ report: FleetFigures) -> ExpectationOutcome {
        switch metric.level {
        case .fleet: return evaluateJoined(report)
        case .track: return evaluateTracks(report)
        case .subscriber: return evaluateSubscribers(report)
        }
    }

    private func missLine(_ subject: String, _ figure: String) -> String {
        "expectation \(text) missed: \(subject): \(figure)"
    }

    private func nothing(_ what: String) -> ExpectationOutcome {
        ExpectationOutcome(expectation: self, checked: 0, misses: [ExpectationMiss(bots: [], line: "expectation \(text) missed: \(what)")])
    }

    private func evaluateJoined(_ report: FleetFigures) -> ExpectationOutcome {
        let join = report.join
        guard join.planned > 0 else { return nothing("no bots in the statistics") }
        let joined = Double(join.joined), planned = Double(join.planned)
        let holds: Bool
        switch threshold {
        case .all: holds = join.joined >= join.planned
        case .value(let n): holds = comparison.holds(joined, n)
        case .percentOfPlanned(let p): holds = comparison.holds(joined / planned * 100, p)
        }
        guard !holds else { return ExpectationOutcome(expectation: self, checked: 1, misses: []) }
        var line = "expectation \(text) missed: \(join.joined) of \(join.planned) bots joined"
        if !join.notJoined.isEmpty {
            let shown = join.notJoined.prefix(20).map { bot in "bot \(bot.bot)" + (bot.error.map { " (\($0))" } ?? "") }
            let more = join.notJoined.count > 20 ? ", and \(join.notJoined.count - 20) more" : ""
            line += "; not joined: " + shown.joined(separator: ", ") + more
        }
        let silent = join.planned.subtractingSaturated(join.joined).subtractingSaturated(join.notJoined.count)
        if silent > 0 { line += "; \(silent) without any statistics line (never started, or killed)" }
        return ExpectationOutcome(expectation: self, checked: 1,
                                  misses: [ExpectationMiss(bots: join.notJoined.map(\.bot), line: line)])
    }

    private func evaluateTracks(_ report: FleetFigures) -> ExpectationOutcome {
        let pool = metric == .jitter ? report.received : report.published + report.received
        let tracks = pool.filter { kind == nil || $0.figures.kind == kind }
        guard !tracks.isEmpty else { return nothing("no \(kind.map { $0 + " " } ?? "")tracks in the statistics") }
        guard case .value(let limit) = threshold else { return nothing("no threshold") }
        var misses: [ExpectationMiss] = []
        for track in tracks {
            let f = track.figures
            let value: Double?
            switch metric {
            case .loss: value = f.loss
            case .bitrate: value = f.bitrate
            case .packets: value = Double(f.packets)
            case .jitter: value = f.jitterMs
            default: value = nil
            }
            guard let value else {
                misses.append(ExpectationMiss(bots: [track.bot], track: f.track, line: missLine(track.label, "\(metric.rawValue) not measured")))
                continue
            }
            if !comparison.holds(value, limit) {
                misses.append(ExpectationMiss(bots: [track.bot], track: f.track, line: missLine(track.label, metric.show(value))))
            }
        }
        return ExpectationOutcome(expectation: self, checked: tracks.count, misses: misses)
    }

    private func evaluateSubscribers(_ report: FleetFigures) -> ExpectationOutcome {
        guard !report.subscribers.isEmpty else { return nothing("no subscribers in the statistics") }
        let roomOfRun = Dictionary(report.runs.map { ($0.run, $0.room) }, uniquingKeysWith: { first, _ in first })
        // The tracks published per room, once per room rather than once per subscriber.
        var publishedByRoom: [String?: Set<String>] = [:]
        func published(in room: String?) -> Set<String> {
            if let known = publishedByRoom[room] { return known }
            let tracks = Set(report.published.filter {
                (roomOfRun[$0.run] ?? nil) == room && (kind == nil || $0.figures.kind == kind)
            }.map { "\($0.bot) \($0.figures.kind)" })
            publishedByRoom[room] = tracks
            return tracks
        }
        var misses: [ExpectationMiss] = []
        for whole in report.subscribers {
            let subscriber = whole.only(kind: kind)
            let subject = "bot \(subscriber.bot)"
            let limit: Double
            var shown: (Double) -> String = metric.show
            // tracks=all: the tracks published in the subscriber's room (of the kind), each
            // named by its publisher and kind, since a track consumed again after a reconnect
            // comes under a new id and must not count twice or stand in for a missing one.
            var publishedInRoom: Set<String>?
            switch threshold {
            case .value(let n): limit = n
            case .all, .percentOfPlanned:
                let available = published(in: roomOfRun[subscriber.run] ?? nil)
                // Producers from outside the run (another process, a server's own members)
                // are not in the statistics: "all of none" would pass without checking.
                guard !available.isEmpty else {
                    let what = "no \(kind.map { $0 + " " } ?? "")track of its room was published by a bot of this run "
                        + "(\(text) counts the run's own publishers; tracks>=N counts tracks from elsewhere)"
                    misses.append(ExpectationMiss(bots: [subscriber.bot], line: missLine(subject, what)))
                    continue
                }
                publishedInRoom = available
                limit = Double(available.count)
                shown = { "tracks \(FigureFormat.number($0)) of \(available.count)" }
            }
            let value: Double?
            switch metric {
            case .freezes: value = Double(subscriber.freezes)
            case .delayP50: value = subscriber.delayMsP50
            case .delayP95: value = subscriber.delayMsP95
            case .tracks:
                if let publishedInRoom {
                    let received = Set(subscriber.tracks.compactMap { t in t.figures.peer.map { "\($0) \(t.figures.kind)" } })
                    value = Double(received.intersection(publishedInRoom).count)
                } else {
                    value = Double(subscriber.tracks.count)
                }
            default: value = nil
            }
            guard let value else {
                misses.append(ExpectationMiss(bots: [subscriber.bot], line: missLine(subject, "\(metric.rawValue) not measured")))
                continue
            }
            if !comparison.holds(value, limit) {
                var figure = shown(value)
                if metric == .freezes, subscriber.freezeMs > 0 { figure += " (\(FigureFormat.seconds(subscriber.freezeMs / 1000)) frozen)" }
                misses.append(ExpectationMiss(bots: [subscriber.bot], line: missLine(subject, figure)))
            }
        }
        return ExpectationOutcome(expectation: self, checked: report.subscribers.count, misses: misses)
    }
}

/// Several expectations at once.
public enum Expectations {
    /// Parses each expression; the first bad one is the error.
    public static func parse(_ expressions: [String]) throws(ExpectationError) -> [Expectation] {
        var parsed: [Expectation] = []
        for expression in expressions { parsed.append(try Expectation(parsing: expression)) }
        return parsed
    }

    /// Every expectation against the report, in the order given.
    public static func evaluate(_ expectations: [Expectation], against report: FleetFigures) -> [ExpectationOutcome] {
        expectations.map { $0.evaluate(report) }
    }
}
