import Foundation

/// The `time` field: UTC, RFC 3339 with milliseconds (seconds alone are accepted too).
enum StatsTime {
    static func parse(_ text: String?) -> Date? {
        guard let text else { return nil }
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
        return try? Date.ISO8601FormatStyle().parse(text)
    }
}
