/// Video freezes as browsers count them (W3C webrtc-stats `freezeCount` and
/// `totalFreezesDuration`, libwebrtc's `VideoQualityObserver`): an interval between two
/// consecutive frames is a freeze when it is at least max(3 × the average, the average +
/// 150 ms), the average being the linear mean of the last 30 intervals that were not freezes.
/// Nothing counts before 5 intervals are known, as in libwebrtc, so a stream's start is not
/// a freeze. nacho's figures and a browser's `getStats` can then be compared.
struct FreezeDetector {
    /// The window of the mean, and the intervals needed before judging.
    static let window = 30
    static let minimumIntervals = 5

    private(set) var freezes = 0
    /// Seconds spent frozen: the whole of each freezing interval.
    private(set) var frozenSeconds = 0.0
    private var lastFrame: Double?
    /// The last `window` intervals that were not freezes, as a ring, and their sum.
    private var intervals = [Double](repeating: 0, count: window)
    private var next = 0
    private var count = 0
    private var sum = 0.0

    /// A whole frame arrived (or was rendered) at `time` seconds. Times that do not move
    /// forward are ignored (two frames completed by one packet).
    mutating func frame(at time: Double) {
        guard time.isFinite else { return }
        guard let last = lastFrame else {
            lastFrame = time
            return
        }
        guard time > last else { return }
        lastFrame = time
        let interval = time - last
        if count >= Self.minimumIntervals {
            let average = sum / Double(count)
            if interval >= max(3 * average, average + 0.150) {
                freezes += 1
                frozenSeconds += interval
                return
            }
        }
        if count == Self.window { sum -= intervals[next] } else { count += 1 }
        intervals[next] = interval
        sum += interval
        next = (next + 1) % Self.window
    }
}
