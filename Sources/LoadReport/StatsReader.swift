import Foundation

/// Reads JSON-lines statistics files (docs/STATS.md), from many runs and machines at once.
///
/// A malformed line is reported with its file and line number and skipped; only a file that
/// cannot be opened at all is an error. A statistics line is one JSON object of a known `type`
/// from its first `{` to its end, with nothing before it or only what log collectors add
/// (`LogCollectorPrefix`: `kubectl logs --prefix`, `--timestamps`, `docker compose logs`), so
/// such logs read as they are. Every other line is skipped: log output mixed into the same
/// stream (stderr in `kubectl logs`), which may quote a server's text holding a forged
/// record, and lines of a type this reader does not know. Skipped lines are counted and
/// reported once per file and kind, naming the first, rather than once per line. A figure out
/// of its range (`FigureBounds`) is clamped and reported with its line.
public enum StatsReader {
    /// Reads every file in order; `-` is standard input.
    public static func read(paths: [String]) throws(StatsReadError) -> StatsInput {
        var input = StatsInput()
        for path in paths {
            input.append(parse(try contents(of: path), source: path))
        }
        return input
    }

    /// The bytes of a file (or of standard input for `-`).
    public static func contents(of path: String) throws(StatsReadError) -> Data {
        if path == "-" { return FileHandle.standardInput.readDataToEndOfFile() }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw StatsReadError(source: path, reason: "no such file")
        }
        guard !isDirectory.boolValue else { throw StatsReadError(source: path, reason: "it is a directory") }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw StatsReadError(source: path, reason: (error as NSError).localizedDescription)
        }
    }

    /// Parses the lines of one file; `source` names it in problems.
    public static func parse(_ data: Data, source: String) -> StatsInput {
        var input = StatsInput()
        let decoder = JSONDecoder()
        var skipped = SkippedLines()
        let lines = [UInt8](data).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for (offset, raw) in lines.enumerated() {
            let lineNumber = offset + 1
            var lower = raw.startIndex
            var upper = raw.endIndex
            while lower < upper, isBlank(raw[lower]) { lower += 1 }
            while upper > lower, isBlank(raw[upper - 1]) { upper -= 1 }
            let line = raw[lower..<upper]
            guard !line.isEmpty else { continue }
            guard let brace = line.firstIndex(of: UInt8(ascii: "{")) else {
                skipped.note(.noObject, line: lineNumber)
                continue
            }
            guard LogCollectorPrefix.isRecognised(line[..<brace]) else {
                skipped.note(.logLine, line: lineNumber)
                continue
            }
            do {
                guard let record = try StatsRecord.decode(line[brace...], with: decoder) else {
                    skipped.note(.unknownType, line: lineNumber)
                    continue
                }
                let (bounded, warnings) = record.bounded()
                input.records.append(bounded)
                input.problems += warnings.map { StatsProblem(source: source, line: lineNumber, message: $0) }
            } catch {
                input.problems.append(StatsProblem(source: source, line: lineNumber, message: describe(error)))
            }
        }
        input.problems += skipped.problems(source: source)
        return input
    }

    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
    }

    /// One short sentence for a decoding failure: what is wrong and with which field.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "not a statistics line: \(error)" }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing field \(path(context.codingPath + [key]))"
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            if context.codingPath.isEmpty { return "not valid JSON" }
            return "field \(path(context.codingPath)): expected \(typeName(type))"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "not valid JSON" }
            return "field \(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "not a statistics line"
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        let names = keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
        return "\"" + names.joined(separator: ".").replacingOccurrences(of: ".[", with: "[") + "\""
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type, is Double.Type: "a number"
        case is Bool.Type: "true or false"
        case is String.Type: "a string"
        default: "a \(type)"
        }
    }
}
