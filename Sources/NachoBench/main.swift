import Dispatch
import Foundation
import RTP
import SRTP

/// Microbenchmarks of the media hot path, printed as figures (not a test): SRTP protect +
/// unprotect throughput per profile, RTP parse and serialize rate. `Scripts/bench` runs this
/// in release mode next to the same work done by aiortc's stack (pylibsrtp, aiortc.rtp).

func measure(_ label: String, iterations: Int, bytesPerIteration: Int, _ body: () throws -> Void) rethrows {
    // Warm up, then time.
    for _ in 0..<min(iterations / 10, 10_000) { try body() }
    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<iterations { try body() }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    let rate = Double(iterations) / seconds
    let megabytes = rate * Double(bytesPerIteration) / 1e6
    let padded = label.count >= 44 ? label : label + String(repeating: " ", count: 44 - label.count)
    print("nacho   \(padded) " + String(format: "%12.0f packets/s %10.1f MB/s", rate, megabytes))
}

let iterations = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 200_000
let payload = (0..<1100).map { UInt8(truncatingIfNeeded: $0 * 31) }
let packet = RTPPacket(payloadType: 101, sequenceNumber: 1, timestamp: 90000, ssrc: 0x1234_5678, marker: true,
                       headerExtension: RTPHeaderExtension(elements: [.init(id: 1, data: [0x30]), .init(id: 4, data: [1, 2, 3])]),
                       payload: payload[...])
let wire = packet.serialize()

for profile in SRTPProtectionProfile.allCases {
    let keys = SRTPKeys(profile: profile, key: Array(repeating: 7, count: profile.keyLength), salt: Array(repeating: 9, count: profile.saltLength))
    let sender = try SRTPContext(keys: keys, direction: .outbound)
    let receiver = try SRTPContext(keys: keys, direction: .inbound, replayWindow: 1024)
    var sequence: UInt16 = 0
    var buffer = wire
    try measure("SRTP protect+unprotect \(profile.rawValue) 1.1 kB", iterations: iterations, bytesPerIteration: wire.count) {
        sequence &+= 1
        buffer = wire
        buffer[2] = UInt8(sequence >> 8)
        buffer[3] = UInt8(truncatingIfNeeded: sequence)
        try sender.protect(&buffer)
        try receiver.unprotect(&buffer)
    }
}

try measure("RTP parse 1.1 kB", iterations: iterations * 5, bytesPerIteration: wire.count) {
    _ = try RTPPacket(parsing: wire)
}
measure("RTP serialize 1.1 kB", iterations: iterations * 5, bytesPerIteration: wire.count) {
    _ = packet.serialize()
}
