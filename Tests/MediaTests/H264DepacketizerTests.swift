import Bytes
import Media
import RTP
import XCTest

/// RFC 6184 packetization mode 1 reassembly, on the packets mediasoup 3.14 forwarded from
/// ffmpeg/libx264 (README of the fixtures: STAP-A [SPS, PPS] + FU-A for IDRs, single NAL
/// units for P frames, 3 % upstream loss) and on synthetic payloads for what the capture lacks.
final class H264DepacketizerTests: XCTestCase {
    static let sps = [UInt8](hex: "6742c01fda0507ec0440000003004000000f23c60ca8")!
    static let pps = [UInt8](hex: "68ce3c80")!
    /// IDR slice: first_mb 0, slice_type 7 (I), pps 0, then slice data.
    static let idr: [UInt8] = [0x65, 0x88, 0x84, 0x21, 0xA0]
    /// P slice: first_mb 0, slice_type 5 (P), pps 0.
    static let pSlice: [UInt8] = [0x41, 0x9A, 0x02, 0x03]

    static func stapA(_ units: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = [0x18]
        for unit in units { out += [UInt8(unit.count >> 8), UInt8(truncatingIfNeeded: unit.count)] + unit }
        return out
    }

    static func fuA(_ unit: [UInt8], parts: Int) -> [[UInt8]] {
        let body = Array(unit.dropFirst())
        let size = (body.count + parts - 1) / parts
        return (0..<parts).map { index in
            let chunk = body[min(index * size, body.count)..<min((index + 1) * size, body.count)]
            let header = (index == 0 ? 0x80 : 0) | (index == parts - 1 ? 0x40 : 0) | unit[0] & 0x1F
            return [unit[0] & 0xE0 | 28, header] + chunk
        }
    }

    /// AVC samples back to NAL units.
    static func units(_ avc: [UInt8]) -> [[UInt8]]? {
        var reader = ByteReader(avc, what: "AVC")
        var out: [[UInt8]] = []
        while !reader.isAtEnd {
            guard let length = try? reader.u32(), let unit = try? reader.take(Int(length)) else { return nil }
            out.append(Array(unit))
        }
        return out
    }

    func testPayloadParsing() throws {
        let stap = try MediaFixture.packet("rtp-h264-stap-a-sps-pps")
        guard case .aggregation(let units) = try H264Payload(parsing: stap.payload) else { return XCTFail("STAP-A expected") }
        XCTAssertEqual(units.map(\.count), [22, 4])
        XCTAssertEqual(Array(units[0]), Self.sps, "the SPS index.json shows")
        XCTAssertEqual(Array(units[1]), Self.pps)
        XCTAssertEqual(stap.payload.first, 0x18, "NRI 0 on the STAP-A although its units have NRI 3")

        let start = try MediaFixture.packet("rtp-h264-fu-a-start")
        guard case .fragment(let first) = try H264Payload(parsing: start.payload) else { return XCTFail("FU-A expected") }
        XCTAssertEqual(first.start, true)
        XCTAssertEqual(first.end, false)
        XCTAssertEqual(first.unitHeader, 0x65, "F and NRI of the indicator 0x7c, type 5 of the header 0x85")
        XCTAssertEqual(first.data.count, 1188 - 2)
        guard case .fragment(let middle) = try H264Payload(parsing: MediaFixture.packet("rtp-h264-fu-a-middle").payload),
              case .fragment(let last) = try H264Payload(parsing: MediaFixture.packet("rtp-h264-fu-a-end").payload) else { return XCTFail() }
        XCTAssertEqual([middle.start, middle.end, last.start, last.end], [false, false, false, true])
        guard case .single(let unit) = try H264Payload(parsing: MediaFixture.packet("rtp-h264-single-nal").payload) else { return XCTFail() }
        XCTAssertEqual(H264NALUnit(header: unit[unit.startIndex]), H264NALUnit(header: 0x41))
        XCTAssertEqual(unit.count, 708)

        // RFC 6184 forms nacho does not take, and broken ones: refused with a reason, never a trap.
        let refused: [(String, [UInt8], String)] = [
            ("empty", [], "empty"),
            ("forbidden bit", [0xE1, 0x00], "forbidden_zero_bit"),
            ("STAP-B", [0x19, 0x00, 0x01, 0x00, 0x02, 0x41, 0x00], "STAP-B (type 25) is interleaved mode only"),
            ("MTAP16", [0x1A, 0x00, 0x01], "MTAP16"),
            ("MTAP24", [0x1B, 0x00, 0x01], "MTAP24"),
            ("FU-B", [0x1D, 0x85, 0x00, 0x01, 0x02], "FU-B"),
            ("STAP-A without units", [0x18], "no NAL unit"),
            ("STAP-A size past the end", [0x18, 0x00, 0x09, 0x67, 0x42], "truncated"),
            ("STAP-A half a size field", Self.stapA([Self.pps]) + [0x00], "truncated"),
            ("STAP-A unit of size 0", [0x18, 0x00, 0x00], "size 0"),
            ("STAP-A inside STAP-A", Self.stapA([[0x18, 0x00]]), "aggregated NAL unit of type 24"),
            ("STAP-A unit with F=1", Self.stapA([[0xE7, 0x00]]), "with F=1"),
            ("FU-A without data", [0x7C, 0x85], "needs a header and data"),
            ("FU-A start and end", [0x7C, 0xC5, 0x00], "start and end bit both set"),
            ("FU-A of a STAP-A", [0x7C, 0x98, 0x00], "fragment of NAL unit type 24"),
            ("FU-A of type 0", [0x7C, 0x80, 0x00], "fragment of NAL unit type 0"),
        ]
        for (name, payload, expected) in refused {
            XCTAssertThrowsError(try H264Payload(parsing: payload[...]), name) {
                XCTAssertTrue("\($0)".contains(expected), "\(name): \($0)")
            }
        }
        // Undefined types are ignored (§5.4), not errors.
        for type: UInt8 in [0, 30, 31] {
            XCTAssertEqual(try H264Payload(parsing: [type, 0x01][...]), .ignored(type: type))
        }
    }

    /// The IDR of the README's table: STAP-A [SPS, PPS] then the IDR slice in 7 FU-A
    /// fragments, 8 packets, then a P frame in one packet.
    func testReassemblesTheCapturedIDRAndPFrame() throws {
        let records = try MediaFixture.records("stream-h264-consumer.pkts")
        let idr = records.filter { (21697...21704).contains($0.packet.sequenceNumber) }.map(\.packet)
        XCTAssertEqual(idr.count, 8)
        var depacketizer = FrameAssembler(H264Depacketizer())
        var frames: [H264Depacketizer.Frame] = []
        for packet in idr {
            if let frame = depacketizer.add(packet.payload, timestamp: packet.timestamp, marker: packet.marker, discontinuity: false) {
                frames.append(frame)
            }
        }
        let frame = try XCTUnwrap(frames.first)
        XCTAssertEqual(frames.count, 1)
        XCTAssertTrue(frame.isKeyFrame)
        XCTAssertEqual(frame.timestamp, 1539195900)
        XCTAssertEqual(frame.details.nalUnitTypes, [7, 8, 5])
        XCTAssertEqual(frame.width, 320)
        XCTAssertEqual(frame.height, 240)
        XCTAssertEqual(frame.details.sps, Self.sps)
        XCTAssertEqual(frame.details.pps, Self.pps)
        XCTAssertFalse(frame.details.parameterSetsChanged)
        let units = try XCTUnwrap(Self.units(frame.data))
        XCTAssertEqual(units.count, 3)
        XCTAssertEqual(units[2].first, 0x65, "the IDR header rebuilt from FU indicator and header")
        let fragments = idr.dropFirst().reduce(0) { $0 + $1.payload.count - 2 }
        XCTAssertEqual(units[2].count, 1 + fragments)
        XCTAssertEqual(frame.data.count, 12 + 22 + 4 + 1 + fragments)

        let p = try MediaFixture.packet("rtp-h264-single-nal")
        let delta = try XCTUnwrap(depacketizer.add(p.payload, timestamp: p.timestamp, marker: p.marker, discontinuity: false))
        XCTAssertFalse(delta.isKeyFrame)
        XCTAssertNil(delta.width)
        XCTAssertNil(delta.details.sps)
        XCTAssertEqual(delta.data, [0, 0, 0x02, 0xC4] + Array(p.payload), "4-byte length 708, then the unit")
    }

    private func feed(_ depacketizer: inout FrameAssembler<H264Depacketizer>, _ payloads: [[UInt8]], timestamp: UInt32,
                      marker: Bool = true, discontinuity: Bool = false) -> [H264Depacketizer.Frame] {
        var out: [H264Depacketizer.Frame] = []
        for (index, payload) in payloads.enumerated() {
            if let frame = depacketizer.add(payload[...], timestamp: timestamp, marker: marker && index == payloads.count - 1,
                                            discontinuity: discontinuity && index == 0) {
                out.append(frame)
            }
        }
        return out
    }

    func testKeyFramesNeedTheirParameterSets() {
        var d = FrameAssembler(H264Depacketizer())
        XCTAssertTrue(feed(&d, [Self.pSlice], timestamp: 0).isEmpty, "no key frame yet")
        XCTAssertTrue(feed(&d, [Self.idr], timestamp: 3000).isEmpty, "an IDR whose SPS/PPS never came is not decodable")
        XCTAssertTrue(d.waitingForKeyFrame)
        XCTAssertEqual(d.framesDropped, 2)
        // Parameter sets alone (their own timestamp, as some senders do) are no frame, but they count.
        XCTAssertTrue(feed(&d, [Self.stapA([Self.sps, Self.pps])], timestamp: 6000).isEmpty)
        let key = feed(&d, [Self.idr], timestamp: 9000)
        XCTAssertEqual(key.map(\.isKeyFrame), [true])
        XCTAssertEqual(key.first?.details.sps, Self.sps)
        XCTAssertEqual(key.first?.width, 320)
        XCTAssertEqual(key.first?.details.nalUnitTypes, [5], "the parameter sets of the earlier packet are not repeated in the data")
        XCTAssertEqual(feed(&d, [Self.pSlice], timestamp: 12000).map(\.isKeyFrame), [false])
        // A slice naming PPS 2, which never came: dropped, and what follows waits for an IDR.
        XCTAssertTrue(feed(&d, [[0x41, 0b1000_1000, 0b0110_0000]], timestamp: 15000).isEmpty)
        XCTAssertTrue(d.waitingForKeyFrame)
    }

    func testLossWaitsForTheNextIDR() {
        var d = FrameAssembler(H264Depacketizer())
        let idr = Self.fuA([0x65, 0x88, 0x84] + Array(repeating: 0x5A, count: 3000), parts: 3)
        XCTAssertEqual(feed(&d, [Self.stapA([Self.sps, Self.pps])] + idr, timestamp: 0).count, 1)
        XCTAssertEqual(feed(&d, [Self.pSlice], timestamp: 3000).count, 1)
        // The middle fragment of the next IDR is lost: nothing until a whole IDR.
        XCTAssertTrue(feed(&d, [Self.stapA([Self.sps, Self.pps]), idr[0]], timestamp: 6000, marker: false).isEmpty)
        XCTAssertTrue(feed(&d, [idr[2]], timestamp: 6000, discontinuity: true).isEmpty)
        XCTAssertTrue(feed(&d, [Self.pSlice], timestamp: 9000).isEmpty)
        XCTAssertEqual(d.framesDropped, 3, "the IDR's two halves and the P frame after it")
        // A continuation whose start is missing (no gap reported) breaks the frame as well.
        XCTAssertTrue(feed(&d, [idr[1], idr[2]], timestamp: 12000).isEmpty)
        // A new unit while an FU-A is open: the FU-A lost its end.
        XCTAssertTrue(feed(&d, [idr[0], Self.pSlice], timestamp: 15000).isEmpty)
        XCTAssertEqual(d.malformedPackets, 1)
        XCTAssertEqual(feed(&d, idr, timestamp: 18000).map(\.isKeyFrame), [true], "the parameter sets are still known")
    }

    /// Some senders leave the marker out: a new timestamp ends the frame if it is whole.
    func testFramesWithoutMarker() {
        var d = FrameAssembler(H264Depacketizer())
        XCTAssertTrue(feed(&d, [Self.stapA([Self.sps, Self.pps]), Self.idr], timestamp: 0, marker: false).isEmpty)
        // P frame 1 (no marker) completes the IDR; P frame 2 (marker) completes P frame 1 and
        // itself: the second comes with the next call.
        XCTAssertEqual(feed(&d, [Self.pSlice], timestamp: 3000, marker: false).map(\.timestamp), [0])
        XCTAssertEqual(feed(&d, [Self.pSlice], timestamp: 6000, marker: true).map(\.timestamp), [3000])
        XCTAssertEqual(d.flush()?.timestamp, 6000)
        XCTAssertNil(d.flush())
        XCTAssertEqual(feed(&d, [Self.pSlice], timestamp: 9000, marker: false).count, 0)
        XCTAssertEqual(d.flush()?.timestamp, 9000, "end of stream: the last frame if whole")
    }

    func testFrameSizeCap() {
        var d = FrameAssembler(H264Depacketizer())
        XCTAssertEqual(feed(&d, [Self.stapA([Self.sps, Self.pps]), Self.idr], timestamp: 0).count, 1)
        let chunk = [UInt8](repeating: 0x11, count: 60_000)
        // A sender that never ends its FU-A nor sets a marker: at the cap the frame is dropped.
        _ = d.add(([0x7C, 0x81] + chunk)[...], timestamp: 3000, marker: false, discontinuity: false)
        for _ in 0..<(H264Depacketizer.maxFrameSize / chunk.count + 2) {
            XCTAssertNil(d.add(([0x7C, 0x01] + chunk)[...], timestamp: 3000, marker: false, discontinuity: false))
        }
        XCTAssertNil(d.add(([0x7C, 0x41] + chunk)[...], timestamp: 3000, marker: true, discontinuity: false))
        XCTAssertEqual(d.framesDropped, 1)
        XCTAssertTrue(d.waitingForKeyFrame)
        XCTAssertEqual(feed(&d, [Self.idr], timestamp: 6000).map(\.isKeyFrame), [true])
    }

    /// An FU-A unit may be 4 MiB, and the tables hold 32 SPS and 256 PPS: a parameter set
    /// above 4 KiB (real ones are tens of bytes) is not kept, and counted.
    func testOversizeParameterSetsAreRefusedAndCounted() throws {
        var d = FrameAssembler(H264Depacketizer())
        let cap = H264Depacketizer.maxParameterSetSize
        // What follows the fields the parsers read is not looked at: these parse.
        let bigSPS = Self.sps + [UInt8](repeating: 0x5A, count: cap)
        let bigPPS = Self.pps + [UInt8](repeating: 0x5A, count: cap)
        XCTAssertNoThrow(try H264SequenceParameterSet(parsing: bigSPS[...]))
        XCTAssertNoThrow(try H264PictureParameterSet(parsing: bigPPS[...]))
        let refused = feed(&d, Self.fuA(bigSPS, parts: 4) + Self.fuA(bigPPS, parts: 4) + [Self.idr], timestamp: 0)
        XCTAssertTrue(refused.isEmpty, "an IDR whose only parameter sets were refused is not decodable")
        XCTAssertEqual(d.depacketizer.oversizeParameterSets, 2)
        XCTAssertTrue(d.waitingForKeyFrame)
        // A set of exactly the cap is kept.
        let atCap = Array(bigSPS.prefix(cap))
        let key = feed(&d, Self.fuA(atCap, parts: 4) + [Self.pps, Self.idr], timestamp: 3000)
        XCTAssertEqual(key.map(\.isKeyFrame), [true])
        XCTAssertEqual(key.first?.details.sps, atCap)
        XCTAssertEqual(d.depacketizer.oversizeParameterSets, 2)
        // A known set is not replaced by an oversize one of the same id.
        XCTAssertEqual(feed(&d, [Self.stapA([bigPPS]), Self.idr], timestamp: 6000).first?.details.pps, Self.pps)
        XCTAssertEqual(d.depacketizer.oversizeParameterSets, 3)
    }

    /// The recorder starts a new file when the parameter sets change (new CodecPrivate).
    func testParameterSetChangeIsReported() throws {
        var d = FrameAssembler(H264Depacketizer())
        let hd = try XCTUnwrap([UInt8](hex: "674d401feca02802dd8088000003000800000301e078c18cb0"))
        let first = feed(&d, [Self.stapA([Self.sps, Self.pps]), Self.idr], timestamp: 0)
        XCTAssertEqual(first.map(\.details.parameterSetsChanged), [false])
        let same = feed(&d, [Self.stapA([Self.sps, Self.pps]), Self.idr], timestamp: 3000)
        XCTAssertEqual(same.map(\.details.parameterSetsChanged), [false], "repeated identical sets are no change")
        let bigger = feed(&d, [Self.stapA([hd, Self.pps]), Self.idr], timestamp: 6000)
        XCTAssertEqual(bigger.map(\.details.parameterSetsChanged), [true])
        XCTAssertEqual(bigger.first?.width, 1280)
        XCTAssertEqual(bigger.first?.details.sps, hd)
        XCTAssertEqual(feed(&d, [Self.pSlice], timestamp: 9000).map(\.details.parameterSetsChanged), [false])
    }

    func testMalformedPayloadsBreakTheFrameWithoutTrapping() {
        var d = FrameAssembler(H264Depacketizer())
        XCTAssertEqual(feed(&d, [Self.stapA([Self.sps, Self.pps]), Self.idr], timestamp: 0).count, 1)
        for payload: [UInt8] in [[], [0x19, 0, 1, 0, 2, 0x41, 0], [0x18, 0x00, 0x09], [0x7C, 0xC5, 0x00], [0xE1]] {
            XCTAssertTrue(feed(&d, [payload], timestamp: 3000).isEmpty)
        }
        XCTAssertEqual(d.malformedPackets, 5)
        XCTAssertTrue(d.lastError?.description.contains("start and end") == false)
        XCTAssertTrue(d.waitingForKeyFrame)
        // Ignored types do not disturb a frame.
        XCTAssertEqual(feed(&d, [[0x1E, 0x00], Self.idr], timestamp: 6000).map(\.details.nalUnitTypes), [[5]])
        // Every prefix of every captured packet: no trap.
        for name in ["rtp-h264-stap-a-sps-pps", "rtp-h264-fu-a-start", "rtp-h264-single-nal"] {
            guard let packet = try? MediaFixture.packet(name) else { return XCTFail(name) }
            for length in 0...min(packet.payload.count, 64) {
                _ = d.add(packet.payload.prefix(length), timestamp: 9000, marker: true, discontinuity: false)
            }
        }
    }

    /// The whole captured consumer stream (3 % upstream loss, no retransmission) through the
    /// jitter buffer: whole frames only, from each complete IDR on (index.json's "strict"
    /// reassembly, 182 frames), and ffmpeg decodes all of them without a message.
    func testCapturedStreamDecodesWithFFmpeg() throws {
        let info = try MediaFixture.index("stream-h264-consumer.pkts")
        let strict = try XCTUnwrap(MediaFixture.verification("h264")["strict"] as? [String: Any])
        var buffer = JitterBuffer<RTPPacket>(maxWait: 0.3)
        var d = FrameAssembler(H264Depacketizer())
        var frames: [H264Depacketizer.Frame] = []
        func deliver(_ outputs: [JitterBuffer<RTPPacket>.Output]) {
            for out in outputs {
                if let frame = d.add(out.element.payload, timestamp: out.element.timestamp, marker: out.element.marker,
                                     discontinuity: out.discontinuity) { frames.append(frame) }
            }
        }
        let records = try MediaFixture.records("stream-h264-consumer.pkts")
        XCTAssertEqual(records.count, info["records"] as? Int)
        for record in records {
            buffer.insert(record.packet, sequenceNumber: record.packet.sequenceNumber, arrival: record.ms / 1000)
            deliver(buffer.pop(now: record.ms / 1000))
        }
        deliver(buffer.pop(now: .infinity))
        if let last = d.flush() { frames.append(last) }

        XCTAssertEqual(buffer.lost, (info["missingSeqs"] as? [Int])?.count)
        XCTAssertEqual(frames.count, strict["framesWritten"] as? Int, "whole frames from a complete IDR on")
        XCTAssertEqual(d.malformedPackets, 0)
        let keyTimestamps = Set(((info["keyFrames"] as? [[String: Any]]) ?? []).compactMap { $0["timestamp"] as? Int })
        let emittedKeys = frames.filter(\.isKeyFrame)
        XCTAssertEqual(emittedKeys.count, 5, "the first IDR lost an FU-A fragment")
        XCTAssertTrue(emittedKeys.allSatisfy { keyTimestamps.contains(Int($0.timestamp)) && $0.width == 320 && $0.height == 240 })
        XCTAssertTrue(frames.first?.isKeyFrame == true)
        XCTAssertTrue(emittedKeys.allSatisfy { !$0.details.parameterSetsChanged }, "x264 repeats the same SPS/PPS")
        XCTAssertTrue(zip(frames, frames.dropFirst()).allSatisfy { Int32(bitPattern: $1.timestamp &- $0.timestamp) > 0 })

        // Annex B for ffmpeg: a start code before every unit.
        var annexB: [UInt8] = []
        for frame in frames {
            let units = try XCTUnwrap(Self.units(frame.data), "well-formed AVC samples")
            for unit in units { annexB += [0, 0, 0, 1] + unit }
        }
        let file = try FFmpegDecoder.temporaryFile("h264-replay.h264", annexB)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let decoded = try FFmpegDecoder.decode(file, format: "h264")
        XCTAssertEqual(decoded.errors, "", "ffmpeg decodes the reassembled frames without a message")
        XCTAssertEqual(decoded.frames, frames.count)

        // As the recorder will store them: Matroska V_MPEG4/ISO/AVC, the avcC of the first key
        // frame as CodecPrivate, the AVC samples as blocks.
        let first = try XCTUnwrap(frames.first)
        let avcC = try AVCDecoderConfiguration(sps: XCTUnwrap(first.details.sps), pps: XCTUnwrap(first.details.pps)).bytes
        let mkv = MatroskaSketch.file(docType: "matroska", codecID: "V_MPEG4/ISO/AVC", codecPrivate: avcC, width: 320, height: 240,
                                      frames: frames.map { (Int(($0.timestamp &- first.timestamp) / 90), $0.isKeyFrame, $0.data) })
        let mkvFile = try FFmpegDecoder.temporaryFile("h264-replay.mkv", mkv)
        defer { try? FileManager.default.removeItem(atPath: mkvFile) }
        let fromMatroska = try FFmpegDecoder.decode(mkvFile, format: "matroska")
        XCTAssertEqual(fromMatroska.errors, "")
        XCTAssertEqual(fromMatroska.frames, frames.count)
    }
}
