import Logging

/// The process's log handler: another handler (stderr's `StreamLogHandler`) behind a filter
/// that escapes control characters in everything logged, the message, every metadata key and
/// value, and an attached error's text. Logs quote what servers send (producer ids, error
/// texts); unescaped, a newline in one starts a line of the server's choosing, which in a
/// stream merged with `--stats -` (`kubectl logs`) could pass for a statistics record, and an
/// ESC drives the terminal that shows the log.
///
/// Escapes (`LogText.escaped`): `\n`, `\r`, `\t`, and `\u{XX}` (hex, as in Swift source) for
/// every other C0 control, DEL, every C1 control and the Unicode line and paragraph separators.
/// A backslash is left as it is: the escape keeps a line one line, it is not meant to be
/// reversible.
struct EscapingLogHandler: LogHandler {
    private var upstream: any LogHandler
    /// Applied here, escaped, rather than by `upstream`, which would write it as it is.
    var metadataProvider: Logger.MetadataProvider?

    init(wrapping upstream: any LogHandler, metadataProvider: Logger.MetadataProvider? = nil) {
        self.upstream = upstream
        self.metadataProvider = metadataProvider
    }

    var logLevel: Logger.Level {
        get { upstream.logLevel }
        set { upstream.logLevel = newValue }
    }

    var metadata: Logger.Metadata {
        get { upstream.metadata }
        set { upstream.metadata = LogText.escaped(newValue) }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { upstream[metadataKey: LogText.escaped(key)] }
        set { upstream[metadataKey: LogText.escaped(key)] = newValue.map(LogText.escaped) }
    }

    func log(event: LogEvent) {
        var escaped = event
        escaped.message = "\(LogText.escaped(event.message.description))"
        var metadata = metadataProvider?.get() ?? [:]
        metadata.merge(event.metadata ?? [:]) { _, explicit in explicit }
        // The error as StreamLogHandler shows it, but escaped: its text may be a server's.
        if let error = event.error {
            metadata["error.message"] = "\(error)"
            metadata["error.type"] = "\(String(reflecting: type(of: error)))"
            escaped.error = nil
        }
        escaped.metadata = metadata.isEmpty ? event.metadata : LogText.escaped(metadata)
        upstream.log(event: escaped)
    }
}

/// Text made safe for one log line.
enum LogText {
    /// `text` with control characters escaped (see `EscapingLogHandler`); the same string
    /// when there is none, which is nearly always.
    static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where needsEscape(scalar): out += "\\u{" + String(scalar.value, radix: 16) + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func escaped(_ value: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch value {
        case .string(let text): .string(escaped(text))
        case .stringConvertible(let convertible): .string(escaped(convertible.description))
        case .dictionary(let dictionary): .dictionary(escaped(dictionary))
        case .array(let array): .array(array.map(escaped))
        }
    }

    static func escaped(_ metadata: Logger.Metadata) -> Logger.Metadata {
        Dictionary(metadata.map { (escaped($0.key), escaped($0.value)) }, uniquingKeysWith: { first, _ in first })
    }

    /// C0 controls, DEL, C1 controls, U+2028 and U+2029.
    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0..<0x20, 0x7F...0x9F, 0x2028, 0x2029: true
        default: false
        }
    }
}
