/// Groups packets into send bursts and yields the deltas between consecutive groups
/// (draft-ietf-rmcat-gcc-02 §5.2; libwebrtc's `InterArrivalDelta`): packets sent within 5 ms
/// of a group's first one belong to it, and so do packets that arrive in a burst behind it
/// (less than 5 ms apart, with a shrinking propagation delay, within 100 ms), because a burst
/// says nothing about the queue. Times are seconds.
struct InterArrival: Sendable {
    static let sendTimeGroupLength = 0.005
    static let burstDeltaThreshold = 0.005
    static let maxBurstDuration = 0.1
    /// An arrival delta this much larger than the time that passed here means the receiver's
    /// clock jumped: start over.
    static let arrivalTimeOffsetThreshold = 3.0
    static let reorderedResetThreshold = 3

    struct Deltas: Sendable, Equatable {
        var sendDelta: Double
        var arrivalDelta: Double
        var sizeDelta: Int
    }

    private struct Group {
        var firstSendTime: Double
        var sendTime: Double
        var firstArrival: Double
        var completeTime: Double
        var size: Int
        var lastSystemTime: Double
    }

    private var current: Group?
    private var previous: Group?
    private var consecutiveReordered = 0

    /// `systemTime` is the sender's clock when the feedback was processed.
    mutating func add(sendTime: Double, arrivalTime: Double, systemTime: Double, size: Int) -> Deltas? {
        guard sendTime.isFinite, arrivalTime.isFinite, systemTime.isFinite else { return nil }
        let size = min(max(size, 0), 1 << 20)
        guard var group = current else {
            current = Group(firstSendTime: sendTime, sendTime: sendTime, firstArrival: arrivalTime,
                            completeTime: arrivalTime, size: size, lastSystemTime: systemTime)
            return nil
        }
        // Sent before the current group started: reordered, says nothing about the trend.
        if sendTime < group.firstSendTime { return nil }
        var deltas: Deltas?
        if startsNewGroup(group, sendTime: sendTime, arrivalTime: arrivalTime) {
            if let previous {
                let sendDelta = group.sendTime - previous.sendTime
                let arrivalDelta = group.completeTime - previous.completeTime
                let systemDelta = group.lastSystemTime - previous.lastSystemTime
                if arrivalDelta - systemDelta >= Self.arrivalTimeOffsetThreshold {
                    reset()
                    return nil
                }
                if arrivalDelta < 0 {
                    consecutiveReordered += 1
                    if consecutiveReordered >= Self.reorderedResetThreshold { reset() }
                    return nil
                }
                consecutiveReordered = 0
                deltas = Deltas(sendDelta: sendDelta, arrivalDelta: arrivalDelta, sizeDelta: group.size - previous.size)
            }
            previous = group
            group = Group(firstSendTime: sendTime, sendTime: sendTime, firstArrival: arrivalTime,
                          completeTime: arrivalTime, size: 0, lastSystemTime: systemTime)
        } else {
            group.sendTime = max(group.sendTime, sendTime)
        }
        group.size += size
        group.completeTime = arrivalTime
        group.lastSystemTime = systemTime
        current = group
        return deltas
    }

    private func startsNewGroup(_ group: Group, sendTime: Double, arrivalTime: Double) -> Bool {
        if belongsToBurst(group, sendTime: sendTime, arrivalTime: arrivalTime) { return false }
        return sendTime - group.firstSendTime > Self.sendTimeGroupLength
    }

    private func belongsToBurst(_ group: Group, sendTime: Double, arrivalTime: Double) -> Bool {
        let arrivalDelta = arrivalTime - group.completeTime
        let sendDelta = sendTime - group.sendTime
        if sendDelta == 0 { return true }
        let propagationDelta = arrivalDelta - sendDelta
        return propagationDelta < 0 && arrivalDelta <= Self.burstDeltaThreshold
            && arrivalTime - group.firstArrival < Self.maxBurstDuration
    }

    private mutating func reset() {
        current = nil
        previous = nil
        consecutiveReordered = 0
    }
}
