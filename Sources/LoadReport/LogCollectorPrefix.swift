/// What may stand before a statistics object on its line: nothing, or what log collectors put
/// in front of each line they gather. With `--stats -` the statistics share a stream with the
/// logs (`kubectl logs` merges stdout and stderr), and a log line can quote text a server sent
/// (a producer id, an error); a line whose text before the `{` is anything else is such a log
/// line, and whatever JSON it holds is not a statistics record.
///
/// Recognised, in this order, each optional and followed by at least one space:
/// - `[pod/NAME/CONTAINER]` (`kubectl logs --prefix`), or `NAME  |` (`docker compose logs`);
/// - an RFC 3339 timestamp (`kubectl logs --timestamps`, `docker compose logs --timestamps`),
///   e.g. `2025-06-15T12:00:00.123456789Z` or `2025-06-15T14:00:00+02:00`.
enum LogCollectorPrefix {
    /// True when `prefix` (the line from its first non-blank byte up to the `{`) is empty or
    /// made of recognised parts only.
    static func isRecognised(_ prefix: ArraySlice<UInt8>) -> Bool {
        var rest = prefix
        if !kubectlPrefix(&rest) { _ = composePrefix(&rest) }
        _ = timestamp(&rest)
        return rest.isEmpty
    }

    /// `[KIND/NAME/CONTAINER]` and spaces: three non-empty parts of Kubernetes name characters.
    private static func kubectlPrefix(_ rest: inout ArraySlice<UInt8>) -> Bool {
        var scan = rest
        guard scan.first == UInt8(ascii: "[") else { return false }
        scan.removeFirst()
        guard let close = scan.firstIndex(of: UInt8(ascii: "]")) else { return false }
        let parts = scan[..<close].split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(isNameByte) }) else { return false }
        scan = scan[(close + 1)...]
        guard spaces(&scan) else { return false }
        rest = scan
        return true
    }

    /// `SERVICE-1  |` and spaces: a Compose container name, padding, a bar.
    private static func composePrefix(_ rest: inout ArraySlice<UInt8>) -> Bool {
        var scan = rest
        let name = scan.prefix(while: isNameByte)
        guard !name.isEmpty else { return false }
        scan = scan[name.endIndex...]
        guard spaces(&scan), scan.first == UInt8(ascii: "|") else { return false }
        scan.removeFirst()
        _ = spaces(&scan)
        rest = scan
        return true
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` and spaces.
    private static func timestamp(_ rest: inout ArraySlice<UInt8>) -> Bool {
        var scan = rest
        func digits(_ count: Int) -> Bool {
            let run = scan.prefix(count)
            guard run.count == count, run.allSatisfy(isDigit) else { return false }
            scan.removeFirst(count)
            return true
        }
        func byte(_ allowed: String) -> Bool {
            guard let first = scan.first, allowed.utf8.contains(first) else { return false }
            scan.removeFirst()
            return true
        }
        guard digits(4), byte("-"), digits(2), byte("-"), digits(2), byte("Tt"),
              digits(2), byte(":"), digits(2), byte(":"), digits(2) else { return false }
        if byte(".") {
            let fraction = scan.prefix(while: isDigit)
            guard !fraction.isEmpty else { return false }
            scan = scan[fraction.endIndex...]
        }
        if !byte("Zz") {
            guard byte("+-"), digits(2), byte(":"), digits(2) else { return false }
        }
        guard spaces(&scan) else { return false }
        rest = scan
        return true
    }

    /// One or more spaces (or tabs).
    private static func spaces(_ rest: inout ArraySlice<UInt8>) -> Bool {
        let run = rest.prefix { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        rest = rest[run.endIndex...]
        return !run.isEmpty
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// Letters, digits, `-`, `.`, `_`: Kubernetes and Compose names.
    private static func isNameByte(_ byte: UInt8) -> Bool {
        let lower = byte | 0x20
        return isDigit(byte) || (lower >= UInt8(ascii: "a") && lower <= UInt8(ascii: "z"))
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
    }
}
