import Capture
import Codecs
import Logging
import Synchronization
import XCTest

@testable import Participant

/// The capture → encode thread with a synthetic camera: what the congestion controller's
/// layer commands do to the encoding.
final class SendPipelineTests: XCTestCase {
    /// The frames a sink got: layer and key-frame flag, in order.
    private final class Collector: Sendable {
        private let frames = Mutex<[(layer: Int, key: Bool)]>([])
        func add(_ frame: EncodedFrame) { frames.withLock { $0.append((frame.layer, frame.isKeyFrame)) } }
        var all: [(layer: Int, key: Bool)] { frames.withLock { $0 } }
        func count(layer: Int) -> Int { all.filter { $0.layer == layer }.count }
    }

    private func wait(_ what: String, _ condition: () -> Bool) {
        let deadline = Date().addingTimeInterval(20)
        while !condition() {
            guard Date() < deadline else { return XCTFail("waited 20 s for \(what)") }
            Thread.sleep(forTimeInterval: 0.01)
        }
    }

    /// A layer is encoded while any stream takes it; once every stream paused it, it is not
    /// encoded at all; a stream taking it again gets a key frame first.
    func testALayerEveryStreamPausedIsNotEncodedAndResumesWithAKeyFrame() throws {
        let source = SyntheticVideoSource(width: 160, height: 120, fps: 30)
        try source.start()
        let settings = VideoEncoderSettings(width: 160, height: 120, fps: 30, bitrate: 300_000, keyFrameInterval: 3000)
        let pipeline = try SendPipeline(video: source, settings: settings, simulcast: [2, 1], logger: Logger(label: "test"))
        let a = Collector(), b = Collector()
        let sinkA = pipeline.attach { a.add($0) }
        let sinkB = pipeline.attach { b.add($0) }
        pipeline.start()
        defer { pipeline.stop() }
        wait("the small layer") { a.count(layer: 0) >= 3 }
        pipeline.setLayer(0, active: false, sink: sinkA)
        let before = b.count(layer: 0)
        wait("the small layer while one stream still takes it") { b.count(layer: 0) >= before + 3 }
        XCTAssertEqual(pipeline.snapshot.framesSkippedPaused, 0)
        pipeline.setLayer(0, active: false, sink: sinkB)
        wait("frames not encoded") { pipeline.snapshot.framesSkippedPaused >= 2 }
        let paused = b.count(layer: 0)
        let skipped = pipeline.snapshot.framesSkippedPaused
        wait("more frames not encoded") { pipeline.snapshot.framesSkippedPaused >= skipped + 3 }
        XCTAssertEqual(b.count(layer: 0), paused, "paused by every stream: not encoded")
        XCTAssertGreaterThan(b.count(layer: 1), 10, "the other layer goes on")
        let mark = a.all.count
        pipeline.setLayer(0, active: true, sink: sinkA)
        wait("the small layer again") { a.all.dropFirst(mark).contains { $0.layer == 0 } }
        XCTAssertEqual(a.all.dropFirst(mark).first { $0.layer == 0 }?.key, true, "resumed with a key frame")
    }
}
