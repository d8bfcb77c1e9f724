import Bytes
import Foundation
import RTP
import XCTest

/// Files of Tests/MediaTests/Fixtures (see its README): captured packets, `.pkts` records, index.json.
enum MediaFixture {
    static func bytes(_ name: String) throws -> [UInt8] {
        let url = try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures"), "missing fixture \(name)")
        return Array(try Data(contentsOf: url))
    }

    static func packet(_ name: String) throws -> RTPPacket {
        try RTPPacket(parsing: bytes(name + ".bin")[...])
    }

    /// A `.pkts` file: [uint32 ms][uint16 length][payload] records.
    static func records(_ name: String) throws -> [(ms: Double, packet: RTPPacket)] {
        let all = try bytes(name)
        var reader = ByteReader(all, what: name)
        var out: [(Double, RTPPacket)] = []
        while !reader.isAtEnd {
            let ms = Double(try reader.u32())
            let length = Int(try reader.u16())
            out.append((ms, try RTPPacket(parsing: reader.take(length))))
        }
        return out
    }

    /// The entry of a file in index.json (`files`), and the run's `h264Vp9Run` section.
    static func index(_ file: String) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(bytes("index.json"))) as? [String: Any]
        return try XCTUnwrap((object?["files"] as? [String: Any])?[file] as? [String: Any], file)
    }

    static func verification(_ codec: String) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(bytes("index.json"))) as? [String: Any]
        let run = try XCTUnwrap(object?["h264Vp9Run"] as? [String: Any])
        return try XCTUnwrap((run["verification"] as? [String: Any])?[codec] as? [String: Any])
    }
}
