/// Columns aligned with two spaces between them, text to the left and numbers to the right,
/// the way `lk load-test` and `kubectl get` print.
struct TextTable {
    enum Alignment {
        case left, right
    }

    var headers: [String]
    var alignments: [Alignment]
    var rows: [[String]] = []

    init(_ columns: [(String, Alignment)]) {
        headers = columns.map(\.0)
        alignments = columns.map(\.1)
    }

    mutating func add(_ row: [String]) {
        rows.append(row)
    }

    /// The lines of the table, header first, without trailing spaces.
    var lines: [String] {
        let all = [headers] + rows
        let widths = headers.indices.map { column in all.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        return all.map { row in
            let cells = headers.indices.map { column -> String in
                let text = column < row.count ? row[column] : ""
                let pad = String(repeating: " ", count: widths[column] - text.count)
                return alignments[column] == .right ? pad + text : text + pad
            }
            var line = cells.joined(separator: "  ")
            while line.last == " " { line.removeLast() }
            return line
        }
    }
}
