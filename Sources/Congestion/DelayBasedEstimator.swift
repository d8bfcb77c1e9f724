/// The delay-based estimate (libwebrtc's `DelayBasedBwe`): received packets, in arrival
/// order, go through send-burst grouping, the trendline and the over-use detector; after each
/// feedback message the AIMD controller moves the estimate by the detector's state, or a
/// probe's measured rate raises it at once.
struct DelayBasedEstimator: Sendable {
    private var interArrival = InterArrival()
    private(set) var trendline = TrendlineEstimator()
    private(set) var detector = OveruseDetector()
    private(set) var rateControl: AimdRateControl

    /// What one feedback message did.
    struct Result: Sendable, Equatable {
        var estimate: Double
        var changed: Bool
        /// The estimate was set from a probe's measured rate.
        var fromProbe: Bool
        /// The detector went from under-use back to normal: the queue drained after an over-use.
        var recoveredFromOveruse: Bool
    }

    init(start: Double, min: Double, max: Double) {
        rateControl = AimdRateControl(start: start, min: min, max: max)
    }

    var estimate: Double { rateControl.current }
    var usage: BandwidthUsage { detector.state }

    /// `received` sorted by arrival time; `now` the sender's clock.
    /// `latestThroughput`: the receive rate of the last 250 ms (R_hat), for decreases.
    mutating func update(received: [PacketResult], acknowledged: Double?, latestThroughput: Double? = nil,
                         probe: Double?, now: Double) -> Result {
        let before = rateControl.current
        var recovered = false
        for result in received {
            guard let arrival = result.arrivalTime else { continue }
            let previousState = detector.state
            if let deltas = interArrival.add(sendTime: result.sent.sendTime, arrivalTime: arrival,
                                             systemTime: now, size: result.sent.size) {
                trendline.update(arrivalDelta: deltas.arrivalDelta * 1000, sendDelta: deltas.sendDelta * 1000,
                                 arrivalTime: arrival * 1000)
                _ = detector.detect(trend: trendline.trend, numberOfDeltas: trendline.numberOfDeltas,
                                    sendDelta: deltas.sendDelta * 1000, now: arrival * 1000)
            }
            if previousState == .underusing, detector.state == .normal { recovered = true }
        }
        var fromProbe = false
        if detector.state == .overusing {
            if let acknowledged {
                if rateControl.timeToReduceFurther(now: now, acknowledged: acknowledged) {
                    // Over-use means the link is busy: what it carried over the last 250 ms
                    // is its capacity, even when the smoothed estimate still lags a jump.
                    let carried = max(acknowledged, latestThroughput ?? 0)
                    rateControl.update(usage: .overusing, acknowledged: carried, now: now)
                }
            } else if rateControl.timeToReduceFurther(now: now, acknowledged: .infinity) {
                // Nothing acknowledged yet to measure the link by: halve, once per round trip.
                rateControl.update(usage: .overusing, acknowledged: nil, now: now)
            }
        } else if let probe, probe > rateControl.current {
            // A probe measured more than the estimate: take it (a lower result is ignored,
            // the media's own feedback covers decreases).
            rateControl.setEstimate(probe, now: now)
            fromProbe = true
        } else {
            rateControl.update(usage: detector.state, acknowledged: acknowledged, now: now)
        }
        return Result(estimate: rateControl.current, changed: rateControl.current != before,
                      fromProbe: fromProbe, recoveredFromOveruse: recovered)
    }

    mutating func setRoundTrip(_ seconds: Double) { rateControl.roundTrip = seconds }

    mutating func setMaxBitrate(_ bitrate: Double) { rateControl.maxBitrate = bitrate }
}
