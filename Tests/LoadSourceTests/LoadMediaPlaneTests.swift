import DTLS
import Foundation
import LoadSource
import Logging
import NIOCore
import NIOPosix
import ORTC
import RTP
import Synchronization
import TestSupport
import Transport
import XCTest

/// nacho's own client transport against the plane on 127.0.0.1: ICE-lite, DTLS, SRTP, and the
/// replayed packets of one video and one audio consumer.
final class LoadMediaPlaneTests: XCTestCase {
    /// What the client received, by SSRC.
    private struct Received {
        var packets: [UInt32: Int] = [:]
        var payloadTypes: [UInt32: Set<UInt8>] = [:]
        var lastSequence: [UInt32: UInt16] = [:]
        var outOfOrder = 0
        var videoWithTransportSequence = 0
        var midValues: [UInt32: Set<String>] = [:]
        var senderReports: Set<UInt32> = []
        var firstPayloads: [UInt32: [UInt8]] = [:]
    }

    func testClientReceivesProtectedVideoAndAudioWithTheirSSRCs() async throws {
        let video = try Clips.make("vp8.ivf"), audio = try Clips.make("sine.ogg")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let logger = Logger(label: "test")
        let plane = try LoadMediaPlane(media: LoadSourceMedia(videoClip: video, audioClip: audio, videoProducers: 2, audioProducers: 1),
                                       group: group, logger: logger)
        XCTAssertEqual(plane.producers.map(\.kind), [.video, .video, .audio])
        XCTAssertEqual(plane.producers.map(\.memberNo), ["1", "2", "1"])
        let device = try Device(routerRtpCapabilities: plane.routerRtpCapabilities)

        let options = try await plane.createTransport()
        XCTAssertEqual(options.iceParameters.iceLite, true)
        XCTAssertEqual(options.iceCandidates.count, 1)
        XCTAssertEqual(options.iceCandidates.first?.address, "127.0.0.1")
        XCTAssertNoThrow(try options.validated())
        let port = try XCTUnwrap(options.iceCandidates.first?.port)

        // Junk of every first-byte class before anything is connected: dropped, no trap.
        try await sendJunk(to: port, group: group)

        let received = Mutex(Received())
        let client = try WebRtcTransport(options: options, certificate: try DTLSCertificate.generate(), eventLoop: group.next(), logger: logger)
        client.setHandlers(.init(rtp: { packet, _ in
            received.withLock { r in
                r.packets[packet.ssrc, default: 0] += 1
                if r.firstPayloads[packet.ssrc] == nil { r.firstPayloads[packet.ssrc] = Array(packet.payload) }
                r.payloadTypes[packet.ssrc, default: []].insert(packet.payloadType)
                if let last = r.lastSequence[packet.ssrc], packet.sequenceNumber != last &+ 1 { r.outOfOrder += 1 }
                r.lastSequence[packet.ssrc] = packet.sequenceNumber
                if packet.extensionElement(5)?.count == 2 { r.videoWithTransportSequence += 1 }
                if let mid = packet.extensionElement(1) { r.midValues[packet.ssrc, default: []].insert(String(decoding: mid, as: UTF8.self)) }
            }
        }, rtcp: { packets in
            received.withLock { r in
                for case .senderReport(let report) in packets { r.senderReports.insert(report.ssrc) }
            }
        }))
        try await plane.connectTransport(id: options.id, dtlsParameters: client.localDtlsParameters)
        try await client.connect()

        let videoProducer = plane.producers[0], audioProducer = plane.producers[2]
        let videoOptions = try device.validateConsumer(
            try await plane.consume(transportId: options.id, producerId: videoProducer.id, rtpCapabilities: device.recvRtpCapabilities, paused: true))
        let audioOptions = try device.validateConsumer(
            try await plane.consume(transportId: options.id, producerId: audioProducer.id, rtpCapabilities: device.recvRtpCapabilities, paused: false))
        XCTAssertEqual(videoOptions.type, "simple")
        XCTAssertEqual(videoOptions.producerId, videoProducer.id)
        XCTAssertEqual(videoOptions.kind, .video)
        XCTAssertEqual(audioOptions.kind, .audio)
        XCTAssertEqual(videoOptions.rtpParameters.encodings.count, 1)
        XCTAssertEqual(Set(videoOptions.rtpParameters.headerExtensions.map(\.uri)),
                       [RtpHeaderExtensionURI.mid, RtpHeaderExtensionURI.absSendTime, RtpHeaderExtensionURI.transportWideCC])
        XCTAssertEqual(Set(audioOptions.rtpParameters.headerExtensions.map(\.uri)), [RtpHeaderExtensionURI.mid, RtpHeaderExtensionURI.absSendTime])
        XCTAssertNotNil(videoOptions.rtpParameters.rtcp.cname)
        XCTAssertEqual(videoOptions.rtpParameters.rtcp.cname, audioOptions.rtpParameters.rtcp.cname, "one member, one CNAME")
        let videoSSRC = try XCTUnwrap(videoOptions.rtpParameters.encodings.first?.ssrc)
        let audioSSRC = try XCTUnwrap(audioOptions.rtpParameters.encodings.first?.ssrc)

        // Paused video sends nothing; audio flows at once.
        try await waitFor("audio packets") { received.withLock { $0.packets[audioSSRC, default: 0] >= 10 } }
        XCTAssertEqual(received.withLock { $0.packets[videoSSRC] }, nil, "paused video was sent")
        try await plane.resume(consumerId: videoOptions.id)
        try await waitFor("video packets and both sender reports") {
            received.withLock { $0.packets[videoSSRC, default: 0] >= 20 && $0.senderReports.isSuperset(of: [videoSSRC, audioSSRC]) }
        }

        // A PLI reaches the plane (it authenticates and is counted).
        client.sendRTCP([.pli(PictureLossIndication(senderSSRC: 1, mediaSSRC: videoSSRC))])
        try await waitFor("the PLI counted") { await plane.statistics().rtcpPacketsReceived >= 1 }

        let r = received.withLock { $0 }
        XCTAssertEqual(Set(r.packets.keys), [videoSSRC, audioSSRC], "only the consumers' SSRCs")
        XCTAssertEqual(r.payloadTypes[videoSSRC], [UInt8(videoOptions.rtpParameters.codecs[0].payloadType)])
        XCTAssertEqual(r.payloadTypes[audioSSRC], [UInt8(audioOptions.rtpParameters.codecs[0].payloadType)])
        XCTAssertEqual(r.outOfOrder, 0)
        // Video starts with a key frame: VP8 payload descriptor (X, S, I with a 15-bit picture
        // id: 4 bytes), then the VP8 header whose bit 0 is 0 for a key frame (RFC 6386 §9.1).
        let first = try XCTUnwrap(r.firstPayloads[videoSSRC])
        XCTAssertGreaterThan(first.count, 4)
        XCTAssertEqual(first[0] & 0x10, 0x10, "start of a partition")
        XCTAssertEqual(first[4] & 0x01, 0, "the first video frame is a key frame")
        XCTAssertEqual(r.videoWithTransportSequence, r.packets[videoSSRC], "every video packet has a transport-wide sequence")
        XCTAssertEqual(r.midValues[videoSSRC], [try XCTUnwrap(videoOptions.rtpParameters.mid)])
        XCTAssertEqual(r.midValues[audioSSRC], [try XCTUnwrap(audioOptions.rtpParameters.mid)])

        let statistics = await plane.statistics()
        XCTAssertEqual(statistics.transports, 1)
        XCTAssertEqual(statistics.connectedTransports, 1)
        XCTAssertEqual(statistics.consumers, 2)
        XCTAssertGreaterThanOrEqual(statistics.rtpPacketsSent, r.packets.values.reduce(0, +))
        XCTAssertGreaterThan(statistics.rtpBytesSent, statistics.rtpPacketsSent * 12)
        XCTAssertGreaterThanOrEqual(statistics.stunRequestsAnswered, 1)
        XCTAssertEqual(statistics.sendErrors, 0)

        await client.close()
        await plane.closeTransport(id: options.id)
        let closed = await plane.statistics()
        XCTAssertEqual(closed.transports, 0)
        XCTAssertEqual(closed.consumers, 0)
        XCTAssertEqual(closed.connectedTransports, 0)
        await plane.shutdown()
        try await group.shutdownGracefully()
    }

    func testConsumeRefusesAClientWithoutTheCodecAndUnknownIds() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let plane = try LoadMediaPlane(media: LoadSourceMedia(videoClip: try Clips.make("vp8.ivf"), audioClip: nil, videoProducers: 1, audioProducers: 0),
                                       group: group, logger: Logger(label: "test"))
        let options = try await plane.createTransport()
        let audioOnly = RtpCapabilities(codecs: [NachoCapabilities.opus])
        do {
            _ = try await plane.consume(transportId: options.id, producerId: plane.producers[0].id, rtpCapabilities: audioOnly, paused: false)
            XCTFail("consumed VP8 for a client without it")
        } catch let error as LoadMediaError {
            guard case .cannotConsume = error else { return XCTFail("\(error)") }
        }
        await XCTAssertThrowsAsync(try await plane.consume(transportId: "0-nope", producerId: plane.producers[0].id,
                                                           rtpCapabilities: NachoCapabilities.rtpCapabilities, paused: false))
        await XCTAssertThrowsAsync(try await plane.consume(transportId: options.id, producerId: "nope",
                                                           rtpCapabilities: NachoCapabilities.rtpCapabilities, paused: false))
        await XCTAssertThrowsAsync(try await plane.resume(consumerId: "x"))
        await XCTAssertThrowsAsync(try await plane.connectTransport(id: options.id, dtlsParameters: DtlsParameters(role: .server, fingerprints: [])))
        await plane.shutdown()
        try await group.shutdownGracefully()
    }

    private func sendJunk(to port: Int, group: any EventLoopGroup) async throws {
        let channel = try await DatagramBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        let remote = try SocketAddress(ipAddress: "127.0.0.1", port: port)
        var generator = SystemRandomNumberGenerator()
        for first: UInt8 in [0, 1, 3, 20, 22, 63, 128, 150, 200, 255] {
            for length in [1, 2, 13, 20, 40, 200] {
                var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                bytes[0] = first
                try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: remote, data: ByteBuffer(bytes: bytes)))
            }
        }
        try await channel.close()
    }

    private func waitFor(_ what: String, timeout: Duration = .seconds(20), _ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await condition() { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        XCTFail("timed out waiting for \(what)")
        throw CancellationError()
    }
}

func XCTAssertThrowsAsync(_ body: @autoclosure () async throws -> some Any, file: StaticString = #filePath, line: UInt = #line) async {
    do {
        _ = try await body()
        XCTFail("did not throw", file: file, line: line)
    } catch {}
}

/// Clips made with the installed ffmpeg on first use (never committed), in this test process's
/// temporary directory: a VP8 clip with a key frame a second, an Opus clip.
enum Clips {
    static let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nacho-loadsource-\(getpid())").path
    private static let recipes: [String: [String]] = [
        "vp8.ivf": ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=15", "-t", "2", "-c:v", "libvpx", "-g", "15", "-f", "ivf"],
        "sine.ogg": ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "2", "-c:a", "libopus", "-b:a", "32k"],
    ]
    private static let made = Mutex<Set<String>>([])

    static func make(_ name: String) throws -> String {
        let path = "\(directory)/\(name)"
        if made.withLock({ $0.contains(name) }) { return path }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        guard let recipe = recipes[name] else { throw EnvironmentFailure("no recipe for \(name)") }
        let result = try ExternalTool.run("ffmpeg", ["-v", "error", "-y"] + recipe + [path])
        guard result.status == 0 else { throw EnvironmentFailure("ffmpeg cannot make \(name) (\(result.stderr.prefix(300)))") }
        made.withLock { _ = $0.insert(name) }
        return path
    }
}
