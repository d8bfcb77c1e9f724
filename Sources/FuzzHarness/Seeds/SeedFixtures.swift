import Foundation

/// The captured fixtures of the test targets, read by the seed generators
/// (`NachoFuzz seeds`): real mediasoup packets and room payloads make the first corpus.
public struct SeedFixtures {
    public let tests: URL

    /// - Parameter root: the repository root.
    public init(root: URL) {
        tests = root.appendingPathComponent("Tests")
    }

    func bytes(_ path: String) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: tests.appendingPathComponent(path).path) else {
            fatalError("missing fixture Tests/\(path)")
        }
        return [UInt8](data)
    }

    func text(_ path: String) -> String {
        String(decoding: bytes(path), as: UTF8.self)
    }

    /// A `.pkts` capture (Tests/RTPTests/Fixtures/README.md): per record a 32-bit time in ms,
    /// a 16-bit length and the datagram.
    func packets(_ path: String) -> [(ms: UInt32, datagram: [UInt8])] {
        let data = bytes(path)
        var out: [(UInt32, [UInt8])] = []
        var offset = 0
        while offset + 6 <= data.count {
            let ms = data[offset..<(offset + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            let length = Int(data[offset + 4]) << 8 | Int(data[offset + 5])
            guard offset + 6 + length <= data.count else { break }
            out.append((ms, Array(data[(offset + 6)..<(offset + 6 + length)])))
            offset += 6 + length
        }
        return out
    }

    /// Compact JSON of a JSON file, or of each value of a JSON-lines file's `data` field.
    func compactJSON(_ path: String) -> String {
        let object = try! JSONSerialization.jsonObject(with: Data(bytes(path)), options: [.fragmentsAllowed])
        return Self.compact(object)
    }

    static func compact(_ object: Any) -> String {
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    /// The `data` of every line of the signaling transcript with `dir` (`ack`, `out`, `in`).
    func transcript(_ dir: String) -> [(event: String, json: String)] {
        text("SignalingTests/Fixtures/transcript-member2.jsonl").split(separator: "\n").compactMap { line in
            guard let record = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  record["dir"] as? String == dir, let event = record["event"] as? String, let data = record["data"] else { return nil }
            return (event, Self.compact(data))
        }
    }
}
