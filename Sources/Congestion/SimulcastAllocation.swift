/// API SKELETON (branch congestion-api): contract final, body a placeholder.
///
/// Splits a video target over simulcast layers the way libwebrtc's simulcast allocator does:
/// lower layers first, each gets at least its minimum or nothing (paused, not starved), the
/// top active layer takes what is left up to its maximum.
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

    /// Per layer (same order, smallest first): its bitrate, or nil when it is paused.
    public static func allocate(_ bitrate: Int, to layers: [Layer]) -> [Int?] {
        layers.map { _ in nil }
    }
}
