import Foundation

/// A reader for the small subset of YAML the fleet files are written in: block mappings and
/// block sequences by indentation, plain, single- and double-quoted scalars, `|` literal
/// blocks, comments and `---` between documents. Anything else (flow collections, anchors,
/// tags, folded scalars, tabs) is an error, never a guess, so a later edit outside the subset
/// fails the test instead of being misread. Scalars stay strings: `4` is "4".
///
/// Why not Yams: one more package to resolve and build on every CI run (2 cores) for two
/// small files whose shape we control; this reader is a hundred lines and checks that shape.
indirect enum YAML: Equatable {
    case null
    case scalar(String)
    case sequence([YAML])
    case mapping([Entry])

    struct Entry: Equatable {
        var key: String
        var value: YAML
    }

    subscript(key: String) -> YAML? {
        guard case .mapping(let entries) = self else { return nil }
        return entries.first { $0.key == key }?.value
    }

    var string: String? {
        guard case .scalar(let text) = self else { return nil }
        return text
    }

    var items: [YAML]? {
        guard case .sequence(let items) = self else { return nil }
        return items
    }

    /// A sequence of scalars as strings, nil if anything else.
    var strings: [String]? {
        guard let items else { return nil }
        let strings = items.compactMap(\.string)
        return strings.count == items.count ? strings : nil
    }

    static func documents(_ text: String) throws -> [YAML] {
        try MiniYAMLParser(text).documents()
    }
}

struct MiniYAMLError: Error, CustomStringConvertible {
    var line: Int
    var message: String
    var description: String { "YAML line \(line): \(message)" }
}

private final class MiniYAMLParser {
    struct Line {
        var number: Int
        var indent: Int
        var text: String
        var isDash: Bool { text == "-" || text.hasPrefix("- ") }
        var isSeparator: Bool { indent == 0 && text == "---" }
    }

    private let raw: [String]
    private var position = 0
    /// The rest of a `- key: value` line, read again as the first line of the item's mapping.
    private var pushedBack: Line?

    init(_ text: String) {
        raw = text.split(separator: "\n", omittingEmptySubsequences: false).map { String($0) }
    }

    func documents() throws -> [YAML] {
        var documents: [YAML] = []
        while let line = try peek() {
            if line.isSeparator {
                consume()
                continue
            }
            documents.append(try node())
            if let next = try peek(), !next.isSeparator {
                throw MiniYAMLError(line: next.number, message: "unexpected indentation")
            }
        }
        return documents
    }

    /// The next line with content, comments removed; blank and comment lines are skipped.
    private func peek() throws -> Line? {
        if let pushedBack { return pushedBack }
        while position < raw.count {
            let text = raw[position]
            let indent = text.prefix { $0 == " " }.count
            let content = Self.withoutComment(String(text.dropFirst(indent)))
            if content.hasPrefix("\t") { throw MiniYAMLError(line: position + 1, message: "tabs are not indentation") }
            if content.isEmpty {
                position += 1
                continue
            }
            return Line(number: position + 1, indent: indent, text: content)
        }
        return nil
    }

    private func consume() {
        if pushedBack != nil { pushedBack = nil } else { position += 1 }
    }

    private func node() throws -> YAML {
        guard let line = try peek(), !line.isSeparator else { return .null }
        return line.isDash ? try sequence(line.indent) : try mapping(line.indent)
    }

    private func sequence(_ indent: Int) throws -> YAML {
        var items: [YAML] = []
        while let line = try peek(), !line.isSeparator, line.indent >= indent {
            guard line.indent == indent else { throw MiniYAMLError(line: line.number, message: "unexpected indentation") }
            guard line.isDash else { break }
            consume()
            let rest = String(line.text.dropFirst()).drop { $0 == " " }
            if rest.isEmpty {
                if let next = try peek(), next.indent > indent, !next.isSeparator { items.append(try node()) } else { items.append(.null) }
            } else if Self.keyAndValue(String(rest)) != nil {
                let column = indent + line.text.count - rest.count
                pushedBack = Line(number: line.number, indent: column, text: String(rest))
                items.append(try mapping(column))
            } else {
                items.append(try scalar(String(rest), line: line.number))
            }
        }
        return .sequence(items)
    }

    private func mapping(_ indent: Int) throws -> YAML {
        var entries: [YAML.Entry] = []
        while let line = try peek(), !line.isSeparator, line.indent >= indent {
            guard line.indent == indent else { throw MiniYAMLError(line: line.number, message: "unexpected indentation") }
            guard !line.isDash else { break }
            guard let (rawKey, valueText) = Self.keyAndValue(line.text) else {
                throw MiniYAMLError(line: line.number, message: "expected \"key: value\"")
            }
            consume()
            let key = try scalar(rawKey, line: line.number).string ?? rawKey
            guard !entries.contains(where: { $0.key == key }) else { throw MiniYAMLError(line: line.number, message: "duplicate key \(key)") }
            let value: YAML
            if valueText.isEmpty {
                if let next = try peek(), !next.isSeparator, next.indent > indent {
                    value = try node()
                } else if let next = try peek(), !next.isSeparator, next.indent == indent, next.isDash {
                    value = try sequence(indent)
                } else {
                    value = .null
                }
            } else if valueText == "|" || valueText == "|-" {
                value = .scalar(literalBlock(parentIndent: indent, keepNewline: valueText == "|"))
            } else {
                value = try scalar(valueText, line: line.number)
            }
            entries.append(YAML.Entry(key: key, value: value))
        }
        return .mapping(entries)
    }

    /// The lines indented deeper than the key, with their common indentation removed.
    private func literalBlock(parentIndent: Int, keepNewline: Bool) -> String {
        var lines: [String] = []
        var blockIndent: Int?
        while position < raw.count {
            let text = raw[position]
            let indent = text.prefix { $0 == " " }.count
            let blank = text.allSatisfy { $0 == " " }
            if !blank {
                if indent <= parentIndent { break }
                if blockIndent == nil { blockIndent = indent }
                if let blockIndent, indent < blockIndent { break }
            }
            lines.append(blank ? "" : String(text.dropFirst(blockIndent ?? 0)))
            position += 1
        }
        while lines.last == "" { lines.removeLast() }
        return lines.joined(separator: "\n") + (keepNewline && !lines.isEmpty ? "\n" : "")
    }

    private func scalar(_ text: String, line: Int) throws -> YAML {
        guard let first = text.first else { return .null }
        switch first {
        case "\"":
            var out = ""
            var escaped = false
            for (offset, character) in text.dropFirst().enumerated() {
                if escaped {
                    switch character {
                    case "n": out.append("\n")
                    case "t": out.append("\t")
                    case "\\", "\"", "/": out.append(character)
                    default: throw MiniYAMLError(line: line, message: "escape \\\(character) is outside the subset")
                    }
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    guard offset == text.count - 2 else { throw MiniYAMLError(line: line, message: "text after a quoted scalar") }
                    return .scalar(out)
                } else {
                    out.append(character)
                }
            }
            throw MiniYAMLError(line: line, message: "unterminated double quote")
        case "'":
            guard text.count >= 2, text.hasSuffix("'") else { throw MiniYAMLError(line: line, message: "unterminated single quote") }
            return .scalar(String(text.dropFirst().dropLast()).replacingOccurrences(of: "''", with: "'"))
        case "[", "{", "&", "*", "!", "|", ">", "%", "@", "`":
            throw MiniYAMLError(line: line, message: "\(first) (flow collections, anchors, tags, folded blocks) is outside the subset")
        default:
            return text == "~" || text == "null" ? .null : .scalar(text)
        }
    }

    /// `key: value` or `key:` split at the first colon followed by a space or the end, outside
    /// quotes; nil when the line is not a mapping entry.
    static func keyAndValue(_ text: String) -> (String, String)? {
        var quote: Character?
        var previous: Character = " "
        for index in text.indices {
            let character = text[index]
            if let open = quote {
                if character == open { quote = nil }
            } else if (character == "\"" || character == "'") && previous == " " {
                quote = character
            } else if character == ":" {
                let next = text.index(after: index)
                if next == text.endIndex || text[next] == " " {
                    let key = String(text[..<index])
                    guard !key.isEmpty else { return nil }
                    return (key, String(text[next...]).trimmingCharacters(in: .whitespaces))
                }
            }
            previous = character
        }
        return nil
    }

    /// The line without a `#` comment (one at the start, or after a space, outside quotes).
    static func withoutComment(_ text: String) -> String {
        var quote: Character?
        var previous: Character = " "
        for index in text.indices {
            let character = text[index]
            if let open = quote {
                if character == open { quote = nil }
            } else if (character == "\"" || character == "'") && previous == " " {
                quote = character
            } else if character == "#" && previous == " " {
                return String(text[..<index]).trimmingCharacters(in: .whitespaces)
            }
            previous = character
        }
        return text.trimmingCharacters(in: .whitespaces)
    }
}
