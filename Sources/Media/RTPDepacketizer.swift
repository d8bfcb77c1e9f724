import Bytes

/// The codec half of reassembling video frames from RTP (RFC 7741 VP8, RFC 9628 VP9, RFC 6184
/// H264), as Pion's `Depacketizer` and libwebrtc's `VideoRtpDepacketizer`: it reads each
/// payload into the frame in progress and says, when the frame ends, whether it decodes.
/// `FrameAssembler` does the rest the same way for every codec: frame boundaries (marker,
/// timestamp), losses, waiting for a key frame, and the counts.
public protocol RTPDepacketizer: Sendable {
    /// What a frame of this codec says beyond `DepacketizedFrame`'s common fields.
    associatedtype Details: FrameDetails

    /// Whether a frame whose marker was lost ends when a new timestamp (or the end of the
    /// stream) comes, and is handed out if whole; else it is dropped then.
    static var completesFrameWithoutMarker: Bool { get }

    /// Reads one payload into the frame in progress. `startsFrame`: the first packet of a new
    /// timestamp. `frameLost`: the frame cannot be whole any more (a part is missing, it grew
    /// past `maxFrameSize`): the depacketizer sets it, and keeps no more of the frame's data
    /// once it is set (what the payload teaches for later frames it still learns). Throws
    /// `MalformedPacket` for a payload its format refuses; the frame is lost then.
    mutating func append(_ payload: ArraySlice<UInt8>, startsFrame: Bool, frameLost: inout Bool) throws

    /// The frame in progress ended whole (not lost): what it becomes. `waitingForKeyFrame`: a
    /// loss came before it, so only a key frame decodes.
    mutating func complete(timestamp: UInt32, waitingForKeyFrame: Bool) -> FrameCompletion<Details>

    /// Forgets the frame in progress (not what earlier frames taught: parameter sets, references).
    mutating func discardFrame()
}

extension RTPDepacketizer {
    /// A frame of this codec.
    public typealias Frame = DepacketizedFrame<Details>

    /// Largest frame reassembled: without markers a stream could grow one forever. A 4K key
    /// frame is well under 1 MiB.
    public static var maxFrameSize: Int { 4 << 20 }
}

/// What a frame that ended whole becomes (`RTPDepacketizer.complete`).
public enum FrameCompletion<Details: FrameDetails>: Sendable {
    /// It decodes: handed out, and the assembler stops waiting for a key frame.
    case frame(DepacketizedFrame<Details>)
    /// It cannot be decoded and is counted as dropped; `awaitsKeyFrame`: what follows cannot
    /// be decoded either until a key frame.
    case dropped(awaitsKeyFrame: Bool)
    /// Its data refused by the codec's own parser: counted as malformed and dropped, and what
    /// follows waits for a key frame.
    case malformed
    /// No picture and no loss (parameter sets alone, only layers above the one kept).
    case nothing
}
