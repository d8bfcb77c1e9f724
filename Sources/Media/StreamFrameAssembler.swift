/// What `InboundStream` holds of its codec's `FrameAssembler`: one type whatever the codec.
protocol StreamFrameAssembler: Sendable {
    var waitingForKeyFrame: Bool { get }
    mutating func addPacket(_ payload: ArraySlice<UInt8>, timestamp: UInt32, marker: Bool, discontinuity: Bool) -> InboundStream.Frame?
    mutating func flushFrame() -> InboundStream.Frame?
}

extension FrameAssembler: StreamFrameAssembler {
    mutating func addPacket(_ payload: ArraySlice<UInt8>, timestamp: UInt32, marker: Bool, discontinuity: Bool) -> InboundStream.Frame? {
        add(payload, timestamp: timestamp, marker: marker, discontinuity: discontinuity).map(InboundStream.Frame.init)
    }

    mutating func flushFrame() -> InboundStream.Frame? {
        flush().map(InboundStream.Frame.init)
    }
}

extension InboundStream.Frame {
    init<Details>(_ frame: DepacketizedFrame<Details>) {
        // Only key frames carry the size here (VP9 knows it for other pictures too).
        self.init(data: frame.data, rtpTimestamp: frame.timestamp, isKeyFrame: frame.isKeyFrame,
                  width: frame.isKeyFrame ? frame.width : nil, height: frame.isKeyFrame ? frame.height : nil,
                  codecPrivate: frame.details.codecPrivate, parametersChanged: frame.details.parametersChanged)
    }
}
