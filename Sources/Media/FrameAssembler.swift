import Bytes

/// Reassembles whole, decodable video frames from RTP packets with one codec's depacketizer, as
/// Pion's `samplebuilder` and libwebrtc's `PacketBuffer`. Feed packets in sequence order with
/// `discontinuity` set when packets were lost before this one.
///
/// A frame is the packets of one RTP timestamp; it ends at the marker bit, or when a new
/// timestamp comes (handed out if whole when the codec allows it, see
/// `RTPDepacketizer.completesFrameWithoutMarker`, else dropped). Whole frames only: after a
/// loss (a gap, a part the depacketizer misses, a malformed payload, a frame that does not
/// decode) every frame is dropped until the next key frame, since what follows references
/// what was lost.
public struct FrameAssembler<Depacketizer: RTPDepacketizer>: Sendable {
    public typealias Frame = DepacketizedFrame<Depacketizer.Details>

    public private(set) var depacketizer: Depacketizer
    public private(set) var waitingForKeyFrame = true
    public private(set) var framesDropped = 0
    /// Payloads (or frames) the codec's parsers refused.
    public private(set) var malformedPackets = 0
    public private(set) var lastError: MalformedPacket?
    /// The RTP time of the frame in progress; nil between frames.
    private var timestamp: UInt32?
    private var frameLost = false
    /// A second frame one packet completed (the previous one had no marker), for the next call.
    private var pending: Frame?

    public init(_ depacketizer: Depacketizer) {
        self.depacketizer = depacketizer
    }

    /// Adds one packet; returns a frame when one is complete and decodable. When one packet
    /// completes two frames (the previous one had no marker), the second comes with the next
    /// call or `flush()`.
    public mutating func add(_ payload: ArraySlice<UInt8>, timestamp packetTimestamp: UInt32, marker: Bool,
                             discontinuity: Bool) -> Frame? {
        // At most two frames come out of one packet; no array for them (one per frame
        // showed up as an allocation per frame in the packet-path benchmark).
        var first = pending, second: Frame?
        pending = nil
        if discontinuity {
            // Something before this packet is gone: the frame in progress is incomplete, and
            // every frame until the next key frame references what was lost.
            if timestamp != nil { framesDropped += 1 }
            discardFrame()
            waitingForKeyFrame = true
        }
        if let current = timestamp, current != packetTimestamp {
            if Depacketizer.completesFrameWithoutMarker {
                if let frame = complete() { Self.keep(frame, &first, &second) }
            } else {
                framesDropped += 1  // the previous frame never got its marker
                discardFrame()
            }
        }
        let startsFrame = timestamp == nil
        if startsFrame { timestamp = packetTimestamp }
        let wasLost = frameLost
        do {
            try depacketizer.append(payload, startsFrame: startsFrame, frameLost: &frameLost)
        } catch let error as MalformedPacket {
            malformedPackets += 1
            lastError = error
            frameLost = true
        } catch {
            frameLost = true
        }
        // Said at once, not at the frame's end: the owner may ask for a key frame now.
        if frameLost && !wasLost { waitingForKeyFrame = true }
        if marker, let frame = complete() { Self.keep(frame, &first, &second) }
        pending = second
        return first
    }

    private static func keep(_ frame: Frame, _ first: inout Frame?, _ second: inout Frame?) {
        if first == nil { first = frame } else if second == nil { second = frame }
    }

    /// At the end of a stream: the frame held back by `add`, or the one in progress if it is
    /// whole and the codec hands out frames without a marker.
    public mutating func flush() -> Frame? {
        if let frame = pending {
            pending = nil
            return frame
        }
        guard timestamp != nil, Depacketizer.completesFrameWithoutMarker else { return nil }
        return complete()
    }

    /// Ends the frame in progress: the frame if it decodes, else nil (counted when a loss).
    private mutating func complete() -> Frame? {
        defer { discardFrame() }
        guard let frameTimestamp = timestamp else { return nil }
        guard !frameLost else {
            framesDropped += 1
            waitingForKeyFrame = true
            return nil
        }
        switch depacketizer.complete(timestamp: frameTimestamp, waitingForKeyFrame: waitingForKeyFrame) {
        case .frame(let frame):
            waitingForKeyFrame = false
            return frame
        case .dropped(let awaitsKeyFrame):
            framesDropped += 1
            if awaitsKeyFrame { waitingForKeyFrame = true }
        case .malformed:
            malformedPackets += 1
            framesDropped += 1
            waitingForKeyFrame = true
        case .nothing:
            break
        }
        return nil
    }

    private mutating func discardFrame() {
        depacketizer.discardFrame()
        timestamp = nil
        frameLost = false
    }
}
