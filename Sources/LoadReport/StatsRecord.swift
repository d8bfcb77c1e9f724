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

private enum TypeKey: String, CodingKey { case type }

extension StatsRecord: Encodable {

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
    /// The record as one line of a statistics file (no newline): keys sorted, so lines of one
    /// type read alike, and `video/VP8` without escaped slashes.
    public func jsonLine() throws -> String {
        if case .track(let line) = self { return line.jsonLine() }
        return try encodedLine()
    }

    /// The line through JSONEncoder (what `TrackLine.jsonLine` reproduces for track lines).
    func encodedLine() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// Decodes one JSON object; nil for a `type` this reader does not know (a newer writer's
    /// line, skipped rather than refused: types, like fields, may be added).
    static func decode(_ json: some Sequence<UInt8>, with decoder: JSONDecoder) throws -> StatsRecord? {
        try decoder.decode(AnyLine.self, from: Data(json)).record
    }

    /// Reads `type`, then the line of that type from the same object: one parse per line.
    private struct AnyLine: Decodable {
        var record: StatsRecord?

        init(from decoder: any Decoder) throws {
            switch try decoder.container(keyedBy: TypeKey.self).decode(String.self, forKey: .type) {
            case "run": record = .run(try RunLine(from: decoder))
            case "track": record = .track(try TrackLine(from: decoder))
            case "summary": record = .summary(try SummaryLine(from: decoder))
            case "end": record = .end(try EndLine(from: decoder))
            default: record = nil
            }
        }
    }
}
