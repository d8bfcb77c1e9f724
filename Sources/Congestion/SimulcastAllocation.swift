/// Splits a video target over simulcast layers the way libwebrtc's simulcast allocator does:
/// lower layers first, each gets at least its minimum or nothing (paused, not starved), the
/// top active layer takes what is left up to its maximum.
///
/// Each layer in turn, smallest first, needs its minimum from what is left or it and every
/// layer above it are paused; an active layer gets up to its target, and the highest active
/// layer then takes what is left up to its maximum. Unlike libwebrtc there is no hysteresis
/// for re-enabling a paused layer (this is a pure function with no memory of the last
/// allocation). Inconsistent layer figures are read sensibly: negative rates as 0, a target
/// below the minimum as the minimum, a maximum below the target as the target.
public enum SimulcastAllocation {
    public struct Layer: Sendable, Equatable {
        public var minBitrate: Int
        public var targetBitrate: Int
        public var maxBitrate: Int

        public init(minBitrate: Int, targetBitrate: Int, maxBitrate: Int) {
            self.minBitrate = minBitrate
            self.targetBitrate = targetBitrate
            self.maxBitrate = maxBitrate
        }
    }

    /// Rates past this (1 Tbit/s) are taken as this, so sums cannot overflow.
    static let ceiling = 1_000_000_000_000

    /// Per layer (same order, smallest first): its bitrate, or nil when it is paused.
    public static func allocate(_ bitrate: Int, to layers: [Layer]) -> [Int?] {
        var allocation = [Int?](repeating: nil, count: layers.count)
        var left = min(max(bitrate, 0), ceiling)
        var top: Int?
        for (index, layer) in layers.enumerated() {
            let minimum = min(max(layer.minBitrate, 0), ceiling)
            let target = min(max(layer.targetBitrate, minimum), ceiling)
            // A layer above one that does not fit would need even more: all paused from here.
            // 0 bit/s is no video: nothing left, or a layer that may use nothing, pauses too.
            guard left >= minimum, left > 0, maximum(of: layer) > 0 else { break }
            let rate = min(left, target)
            allocation[index] = rate
            left -= rate
            top = index
        }
        if let top, left > 0 {
            let layer = layers[top]
            let current = allocation[top] ?? 0
            allocation[top] = current + min(left, max(maximum(of: layer) - current, 0))
        }
        return allocation
    }

    /// The layer's maximum, at least its target and minimum, within [0, ceiling].
    private static func maximum(of layer: Layer) -> Int {
        min(max(layer.maxBitrate, layer.targetBitrate, layer.minBitrate, 0), ceiling)
    }
}
