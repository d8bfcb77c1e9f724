import Capture
import DTLS
import ICE
import Logging
import Media
import MediaFormat
import NIOCore
import ORTC
import RTP
import SRTP

/// The plane's work on one event loop: its transports, every producer's replay state, and one
/// repeating task (`tick`) that sends the frames whose time came to every consumer on this loop
/// and flushes each socket once. Each loop packetizes a producer's frame once for all of its
/// consumers there (so with k loops a frame is packetized at most k times). Owned by the loop:
/// no lock, no hop on the media path.
final class PlaneEngine {
    struct Replay {
        let clip: ReplayClip
        var schedule: ReplaySchedule
        /// The producers of this kind, by schedule publisher id.
        let producers: [ReplayedProducer]
    }

    /// One datagram written into `batch` this tick.
    private struct Pending {
        let transport: PlaneTransport
        let start: Int
        let length: Int
        let isRTP: Bool
    }

    let loop: any EventLoop
    private let certificate: DTLSCertificate
    private let logger: Logger
    /// Seconds on `MediaClock` at the plane's start: the replay clock's zero.
    private let epoch: Double
    /// NTP seconds minus `MediaClock` seconds (sender reports, abs-send-time).
    private let ntpOffset: Double
    private var replays: [Replay]
    /// Every producer by its plane-wide index (video first, then audio).
    let producers: [ReplayedProducer]
    private var transports: [String: PlaneTransport] = [:]
    /// Transports whose DTLS handshake is running (their retransmission timers are checked each tick).
    private var handshaking: [PlaneTransport] = []
    private(set) var statistics = LoadSourceStatistics()
    private var batch: ByteBuffer?
    /// Capacity of the next tick's batch: what the last one used, with room to grow.
    private var batchCapacity = 64 << 10
    private var pending: [Pending] = []
    private var touched: [PlaneTransport] = []
    private var nextSenderReports = 0.0
    /// Reused for SRTCP unprotection.
    private var scratch: [UInt8] = []

    init(loop: any EventLoop, certificate: DTLSCertificate, video: ReplayClip?, videoProducers: Int, audio: ReplayClip?,
         audioProducers: Int, epoch: Double, ntpOffset: Double, logger: Logger) {
        self.loop = loop
        self.certificate = certificate
        self.logger = logger
        self.epoch = epoch
        self.ntpOffset = ntpOffset
        let start = MediaClock.now - epoch
        var replays: [Replay] = []
        var all: [ReplayedProducer] = []
        for (clip, count, kind) in [(video, videoProducers, MediaKind.video), (audio, audioProducers, .audio)] {
            guard let clip, count > 0 else { continue }
            var schedule = ReplaySchedule(clip: clip)
            var producers: [ReplayedProducer] = []
            for _ in 0..<count {
                _ = schedule.attach(now: start)
                let producer = ReplayedProducer(index: all.count, kind: kind)
                producers.append(producer)
                all.append(producer)
            }
            replays.append(Replay(clip: clip, schedule: schedule, producers: producers))
        }
        self.replays = replays
        producers = all
        pending.reserveCapacity(1024)
        scratch.reserveCapacity(1500)
    }

    private var now: Double { MediaClock.now - epoch }

    // MARK: - Signaling

    func add(_ transport: PlaneTransport) {
        transports[transport.id] = transport
        statistics.transports += 1
    }

    func connect(transportId: String, fingerprints: [(algorithm: String, value: String)]) throws {
        guard let transport = transports[transportId] else { throw LoadMediaError.unknownTransport(transportId) }
        guard transport.dtls == nil else { throw LoadMediaError.badDtlsParameters("transport \(transportId) is connected already") }
        do {
            transport.dtls = try DTLSEndpoint(role: .server, certificate: certificate, remoteFingerprints: fingerprints)
        } catch {
            throw LoadMediaError.badDtlsParameters("\(error)")
        }
        handshaking.append(transport)
        let early = transport.earlyDTLS
        transport.earlyDTLS = []
        for datagram in early {
            guard let remote = transport.remote else { break }
            receiveDTLS(datagram[...], from: remote, on: transport)
        }
    }

    func consume(transportId: String, producerIndex: Int, producerId: String, consumerId: String, client: RtpCapabilities, paused: Bool,
                 cname: String) throws -> ConsumerOptions {
        guard let transport = transports[transportId], !transport.closed else { throw LoadMediaError.unknownTransport(transportId) }
        guard producers.indices.contains(producerIndex) else { throw LoadMediaError.unknownProducer("#\(producerIndex)") }
        let producer = producers[producerIndex]
        let codec = try PlaneCapabilities.consumerCodec(producer.kind, client: client)
        let extensions = PlaneCapabilities.consumerExtensions(producer.kind, client: client)
        var ssrc: UInt32
        repeat { ssrc = UInt32.random(in: 1...UInt32.max) } while transport.consumers.contains { $0.ssrc == ssrc }
        let mid = String(transport.nextMid)
        transport.nextMid += 1
        func id(_ uri: String) -> Int? { extensions.first { $0.uri == uri }?.id }
        let consumer = PlaneConsumer(
            id: consumerId, producerIndex: producerIndex, kind: producer.kind, ssrc: ssrc,
            payloadType: UInt8(truncatingIfNeeded: codec.payloadType), mid: mid,
            midId: id(RtpHeaderExtensionURI.mid), absSendTimeId: id(RtpHeaderExtensionURI.absSendTime),
            transportSequenceId: id(RtpHeaderExtensionURI.transportWideCC), transport: transport)
        transport.consumers.append(consumer)
        producer.consumers.append(consumer)
        statistics.consumers += 1
        if !paused { start(consumer) }
        let parameters = RtpParameters(mid: mid, codecs: [codec], headerExtensions: extensions,
                                       encodings: [RtpEncodingParameters(ssrc: ssrc)],
                                       rtcp: RtcpParameters(cname: cname, reducedSize: true))
        return ConsumerOptions(id: consumerId, producerId: producerId, kind: producer.kind, rtpParameters: parameters,
                               type: "simple", producerPaused: false)
    }

    func resume(consumerId: String) throws {
        for transport in transports.values {
            if let consumer = transport.consumers.first(where: { $0.id == consumerId }) {
                start(consumer)
                return
            }
        }
        throw LoadMediaError.unknownConsumer(consumerId)
    }

    /// Starts sending; video asks its producer for a key frame, as mediasoup does when a
    /// consumer starts (the consumer waits for one).
    private func start(_ consumer: PlaneConsumer) {
        guard !consumer.isSending else { return }
        consumer.isSending = true
        if consumer.kind == .video { requestKeyFrame(producerIndex: consumer.producerIndex) }
    }

    func close(transportId: String) {
        guard let transport = transports.removeValue(forKey: transportId) else { return }
        if let dtls = transport.dtls, dtls.isEstablished, let remote = transport.remote {
            for datagram in dtls.shutdown() { sendNow(datagram, to: remote, on: transport) }
        }
        if transport.isConnected { statistics.connectedTransports -= 1 }
        transport.closed = true
        for consumer in transport.consumers {
            producers[consumer.producerIndex].consumers.removeAll { $0 === consumer }
        }
        statistics.consumers -= transport.consumers.count
        statistics.transports -= 1
        transport.consumers = []
        handshaking.removeAll { $0 === transport }
        transport.channel.close(promise: nil)
    }

    func shutdown() {
        for id in Array(transports.keys) { close(transportId: id) }
    }

    // MARK: - Received datagrams

    func receive(_ buffer: ByteBuffer, from source: SocketAddress, transportId: String) {
        guard let transport = transports[transportId], !transport.closed, let first = buffer.readableBytesView.first else { return }
        switch first {
        case 0...3:
            receiveSTUN(Array(buffer.readableBytesView), from: source, on: transport)
        case 20...63:
            guard let remote = transport.remote, remote == source else { return }  // DTLS only after ICE, from its peer
            let datagram = Array(buffer.readableBytesView)
            if transport.dtls == nil {
                if transport.earlyDTLS.count < 8 { transport.earlyDTLS.append(datagram) }
                return
            }
            receiveDTLS(datagram[...], from: source, on: transport)
        case 128...191:
            receiveRTCP(buffer, on: transport)
        default:
            return
        }
    }

    private func receiveSTUN(_ bytes: [UInt8], from source: SocketAddress, on transport: PlaneTransport) {
        guard let host = source.ipAddress, let port = source.port, let port16 = UInt16(exactly: port),
              let address = STUNAddress(ipv4: host, port: port16),
              let answer = transport.responder.answer(bytes[...], from: address) else { return }
        statistics.stunRequestsAnswered += 1
        if transport.remote == nil || (answer.useCandidate && !transport.remoteNominated) {
            let wasConnected = transport.isConnected
            transport.remote = source
            transport.remoteNominated = answer.useCandidate
            if !wasConnected && transport.isConnected { statistics.connectedTransports += 1 }
        }
        sendNow(answer.response, to: source, on: transport)
    }

    private func receiveDTLS(_ datagram: ArraySlice<UInt8>, from source: SocketAddress, on transport: PlaneTransport) {
        guard let dtls = transport.dtls else { return }
        handle(dtls.receive(datagram), on: transport)
    }

    private func handle(_ output: DTLSEndpoint.Output, on transport: PlaneTransport) {
        if let remote = transport.remote {
            for datagram in output.datagrams { sendNow(datagram, to: remote, on: transport) }
        }
        if let keys = output.keys {
            do {
                transport.outbound = try SRTPContext(keys: keys.local, direction: .outbound)
                transport.inbound = try SRTPContext(keys: keys.remote, direction: .inbound)
                if transport.isConnected { statistics.connectedTransports += 1 }
            } catch {
                logger.warning("transport \(transport.id): SRTP: \(error)")
            }
            handshaking.removeAll { $0 === transport }
        }
        if let failure = output.failure {
            logger.info("transport \(transport.id): DTLS ended: \(failure)")
            if transport.isConnected { statistics.connectedTransports -= 1 }
            transport.outbound = nil
            transport.inbound = nil
            handshaking.removeAll { $0 === transport }
        }
    }

    private func receiveRTCP(_ buffer: ByteBuffer, on transport: PlaneTransport) {
        // RTCP packet types 192...223 (RFC 5761 §4); RTP from a receiving client is not expected.
        guard let inbound = transport.inbound, let type = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self),
              (192...223).contains(type) else { return }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: buffer.readableBytesView)
        do {
            try inbound.unprotectRTCP(&scratch)
        } catch {
            return
        }
        statistics.rtcpPacketsReceived += 1
        // Most of what clients send is receiver reports and transport-cc feedback: parse only
        // compounds that hold payload-specific feedback (PLI, FIR).
        guard Self.holdsPayloadSpecificFeedback(scratch), let packets = try? RTCPPacket.parseCompound(scratch[...]) else { return }
        for packet in packets {
            let mediaSSRC: UInt32
            switch packet {
            case .pli(let pli): mediaSSRC = pli.mediaSSRC
            case .fir(let fir):
                for entry in fir.entries { keyFrameRequest(ssrc: entry.ssrc, on: transport) }
                continue
            default: continue
            }
            keyFrameRequest(ssrc: mediaSSRC, on: transport)
        }
    }

    /// Whether a compound has a packet of type 206 (RFC 4585 §6.1), walking the headers' lengths.
    static func holdsPayloadSpecificFeedback(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset + 4 <= bytes.count {
            if bytes[offset + 1] == 206 { return true }
            offset += 4 + 4 * (Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3]))
        }
        return false
    }

    private func keyFrameRequest(ssrc: UInt32, on transport: PlaneTransport) {
        guard let consumer = transport.consumers.first(where: { $0.ssrc == ssrc }), consumer.kind == .video else { return }
        requestKeyFrame(producerIndex: consumer.producerIndex)
    }

    /// Answered by the producer jumping to the clip's next key frame (`ReplaySchedule`), for
    /// all of its consumers on this loop, as an SFU relays a PLI to the producer.
    private func requestKeyFrame(producerIndex: Int) {
        for index in replays.indices {
            if let publisher = replays[index].producers.firstIndex(where: { $0.index == producerIndex }) {
                replays[index].schedule.requestKeyFrame(publisher)
            }
        }
    }

    /// STUN and DTLS go out at once (few, and not on the replay's beat).
    private func sendNow(_ bytes: [UInt8], to remote: SocketAddress, on transport: PlaneTransport) {
        var buffer = transport.channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        transport.channel.writeAndFlush(AddressedEnvelope(remoteAddress: remote, data: buffer), promise: nil)
    }

    // MARK: - The replay clock

    func tick() {
        let now = self.now
        for index in replays.indices {
            let due = replays[index].schedule.due(now: now)
            guard !due.isEmpty else { continue }
            let clip = replays[index].clip
            for frame in due {
                let producer = replays[index].producers[frame.publisher]
                guard producer.hasSendingConsumer else { continue }
                send(frame: frame, of: clip, from: producer, now: now)
            }
        }
        if !handshaking.isEmpty { retransmitHandshakes() }
        if now >= nextSenderReports {
            nextSenderReports = now + 1
            sendSenderReports(now: now)
        }
        flush()
    }

    private func retransmitHandshakes() {
        for transport in handshaking {
            guard let dtls = transport.dtls, let timeout = dtls.timeout, timeout <= .zero else { continue }
            handle(dtls.handleTimeout(), on: transport)
        }
    }

    private func send(frame: ReplaySchedule.Due, of clip: ReplayClip, from producer: ReplayedProducer, now: Double) {
        producer.packetize(Array(clip.frames.data(at: frame.frameIndex)))
        let isKeyFrame = clip.kind == .video && clip.frames.isKeyFrame(at: frame.frameIndex)
        let timestamp = producer.rtpTimestamp(at: frame.captureTime)
        let absSendTime = Self.absSendTime(ntpOffset + epoch + now)
        for consumer in producer.consumers where consumer.isSending && consumer.transport.isConnected {
            if consumer.waitingForKeyFrame {
                guard isKeyFrame else { continue }
                consumer.waitingForKeyFrame = false
            }
            for payload in producer.payloads {
                write(consumer: consumer, payload: payload, of: producer, timestamp: timestamp, absSendTime: absSendTime)
            }
        }
    }

    /// Copies the consumer's header and the payload into the batch, patches the header and
    /// protects the packet in place: no allocation per packet.
    private func write(consumer: PlaneConsumer, payload: (start: Int, count: Int, marker: Bool), of producer: ReplayedProducer,
                       timestamp: UInt32, absSendTime: UInt32) {
        let transport = consumer.transport
        guard let srtp = transport.outbound else { return }
        let headerCount = consumer.header.count
        let length = headerCount + payload.count
        let needed = length + SRTPContext.maxTrailer
        let sequence = consumer.sequenceNumber
        let transportSequence = transport.transportSequence
        var batch = takeBatch(needed)
        let start = batch.writerIndex
        let written = batch.writeWithUnsafeMutableBytes(minimumWritableBytes: needed) { out -> Int in
            guard let base = out.baseAddress, out.count >= needed else { return 0 }
            consumer.header.withUnsafeBytes { header in
                if let source = header.baseAddress { base.copyMemory(from: source, byteCount: headerCount) }
            }
            out[1] = (payload.marker ? 0x80 : 0) | consumer.payloadType
            out[2] = UInt8(sequence >> 8)
            out[3] = UInt8(truncatingIfNeeded: sequence)
            out[4] = UInt8(timestamp >> 24)
            out[5] = UInt8(truncatingIfNeeded: timestamp >> 16)
            out[6] = UInt8(truncatingIfNeeded: timestamp >> 8)
            out[7] = UInt8(truncatingIfNeeded: timestamp)
            if let at = consumer.absSendTimeOffset {
                out[at] = UInt8(truncatingIfNeeded: absSendTime >> 16)
                out[at + 1] = UInt8(truncatingIfNeeded: absSendTime >> 8)
                out[at + 2] = UInt8(truncatingIfNeeded: absSendTime)
            }
            if let at = consumer.transportSequenceOffset {
                out[at] = UInt8(transportSequence >> 8)
                out[at + 1] = UInt8(truncatingIfNeeded: transportSequence)
            }
            producer.bytes.withUnsafeBytes { bytes in
                if let source = bytes.baseAddress {
                    (base + headerCount).copyMemory(from: source + payload.start, byteCount: payload.count)
                }
            }
            return (try? srtp.protect(out, length: length)) ?? 0
        }
        self.batch = batch
        guard written > 0 else { return }
        consumer.sequenceNumber &+= 1
        if consumer.transportSequenceOffset != nil { transport.transportSequence &+= 1 }
        consumer.packetsSent &+= 1
        consumer.octetsSent &+= UInt32(truncatingIfNeeded: payload.count)
        pending.append(Pending(transport: transport, start: start, length: written, isRTP: true))
    }

    /// The batch, taken out of `self` so writing to it does not copy it (one owner).
    private func takeBatch(_ needed: Int) -> ByteBuffer {
        if let batch = self.batch {
            self.batch = nil
            return batch
        }
        return ByteBufferAllocator().buffer(capacity: max(batchCapacity, needed))
    }

    private func sendSenderReports(now: Double) {
        guard let ntp = NTPTime.fixedPoint(seconds: ntpOffset + epoch + now) else { return }
        for transport in transports.values where transport.isConnected {
            guard let srtp = transport.outbound else { continue }
            for consumer in transport.consumers where consumer.isSending && consumer.packetsSent > 0 {
                let producer = producers[consumer.producerIndex]
                let report = SenderReport(ssrc: consumer.ssrc, ntpTimestamp: ntp, rtpTimestamp: producer.rtpTimestamp(at: now),
                                          packetCount: consumer.packetsSent, octetCount: consumer.octetsSent)
                let bytes = RTCPPacket.serializeCompound([.senderReport(report)])
                let needed = bytes.count + SRTPContext.maxTrailer
                var batch = takeBatch(needed)
                let start = batch.writerIndex
                let written = batch.writeWithUnsafeMutableBytes(minimumWritableBytes: needed) { out -> Int in
                    guard let base = out.baseAddress, out.count >= needed else { return 0 }
                    bytes.withUnsafeBytes { if let source = $0.baseAddress { base.copyMemory(from: source, byteCount: bytes.count) } }
                    return (try? srtp.protectRTCP(out, length: bytes.count)) ?? 0
                }
                self.batch = batch
                if written > 0 { pending.append(Pending(transport: transport, start: start, length: written, isRTP: false)) }
            }
        }
    }

    /// Hands every datagram of the tick to its socket and flushes each socket once (NIO writes
    /// a socket's queue with sendmmsg). A socket whose queue is over its high-water mark (the
    /// kernel refused earlier datagrams) gets nothing more: those datagrams are send errors.
    private func flush() {
        guard let batch else { return }
        self.batch = nil
        batchCapacity = max(64 << 10, batch.writerIndex + batch.writerIndex / 4)
        for item in pending {
            let transport = item.transport
            guard !transport.closed, let remote = transport.remote, let data = batch.getSlice(at: item.start, length: item.length) else { continue }
            guard transport.channel.isWritable else {
                statistics.sendErrors += 1
                continue
            }
            transport.channel.write(AddressedEnvelope(remoteAddress: remote, data: data), promise: nil)
            if item.isRTP {
                statistics.rtpPacketsSent += 1
                statistics.rtpBytesSent += item.length
            }
            if !transport.unflushed {
                transport.unflushed = true
                touched.append(transport)
            }
        }
        for transport in touched {
            transport.unflushed = false
            transport.channel.flush()
        }
        touched.removeAll(keepingCapacity: true)
        pending.removeAll(keepingCapacity: true)
    }

    /// Errors the socket reported (a refused send, an ICMP unreachable).
    func socketError() {
        statistics.sendErrors += 1
    }

    /// abs-send-time: 6.18 fixed-point seconds of NTP time, 24 bits.
    static func absSendTime(_ seconds: Double) -> UInt32 {
        let scaled = seconds * 262_144
        guard scaled.isFinite, abs(scaled) < 9e18 else { return 0 }
        return UInt32(truncatingIfNeeded: Int64(scaled)) & 0x00FF_FFFF
    }
}
