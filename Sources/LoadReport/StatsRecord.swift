import Foundation

/// One line of a statistics file (docs/STATS.md), by its `type`.
public enum StatsRecord: Sendable, Equatable {
    case run(RunLine)
    case track(TrackLine)
    case summary(SummaryLine)
    case end(EndLine)

    /// The `type` field of each kind of line.
    public var type: String {
        switch self {
        case .run: "run"
        case .track: "track"
        case .summary: "summary"
        case .end: "end"
        }
    }

    /// The process (run) the line belongs to.
    public var run: String {
        switch self {
        case .run(let line): line.run
        case .track(let line): line.run
        case .summary(let line): line.run
        case .end(let line): line.run
        }
    }
}

extension StatsRecord: Encodable {
    private enum TypeKey: String, CodingKey { case type }

    /// One flat JSON object with `type` first among the fields the line type defines.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: TypeKey.self)
        try c.encode(type, forKey: .type)
        switch self {
        case .run(let line): try line.encode(to: encoder)
        case .track(let line): try line.encode(to: encoder)
        case .summary(let line): try line.encode(to: encoder)
        case .end(let line): try line.encode(to: encoder)
        }
    }
}

extension StatsRecord {
    /// Decodes one JSON object; nil for a `type` this reader does not know (a newer writer's
    /// line, skipped rather than refused: types, like fields, may be added).
    static func decode(_ json: some Sequence<UInt8>, with decoder: JSONDecoder) throws -> StatsRecord? {
        let data = Data(json)
        let probe = try decoder.decode(TypeProbe.self, from: data)
        switch probe.type {
        case "run": return .run(try decoder.decode(RunLine.self, from: data))
        case "track": return .track(try decoder.decode(TrackLine.self, from: data))
        case "summary": return .summary(try decoder.decode(SummaryLine.self, from: data))
        case "end": return .end(try decoder.decode(EndLine.self, from: data))
        default: return nil
        }
    }

    private struct TypeProbe: Decodable {
        var type: String
    }
}
