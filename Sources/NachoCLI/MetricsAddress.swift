/// `HOST:PORT` for `--metrics`: a host name or IPv4 address, or an IPv6 address in brackets
/// (`[::1]:9464`); the port 0…65535 (0: any free port).
struct MetricsAddress: Sendable, Equatable, CustomStringConvertible {
    var host: String
    var port: Int

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        guard let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port) else { return nil }
        if host.hasPrefix("[") && host.hasSuffix("]") && host.count > 2 {
            host = String(host.dropFirst().dropLast())
        } else if host.contains(":") {
            return nil  // an IPv6 address without brackets: its last colon is not the port's
        }
        guard !host.isEmpty, host.utf8.count <= 253, host.allSatisfy({ !$0.isWhitespace && !"/[]".contains($0) }) else { return nil }
        self.host = host
        self.port = port
    }

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
