/// A `track` line written without JSONEncoder, byte for byte as `StatsRecord.jsonLine` writes
/// it through JSONEncoder (sorted keys, unescaped slashes, null for nil and non-finite
/// numbers, whole doubles without ".0"). A bots run writes one per track per second (1,000 a
/// second at 250 subscribers), and JSONEncoder's boxing and key sorting took 7 % of such a
/// process's CPU. The other line types are rare and keep JSONEncoder.
extension TrackLine {
    func jsonLine() -> String {
        let f = figures
        var fields: [(key: String, value: String)] = [
            ("type", Self.json("track")), ("run", Self.json(run)), ("time", Self.json(time)), ("bot", Self.json(bot)),
            ("role", Self.json(role)),
            ("direction", Self.json(f.direction.rawValue)), ("kind", Self.json(f.kind)), ("codec", Self.json(f.codec)),
            ("track", Self.json(f.track)), ("peer", Self.json(f.peer)),
            ("elapsed_s", Self.json(f.elapsedS)), ("interval_s", Self.json(f.intervalS)),
            ("packets", String(f.packets)), ("bytes", String(f.bytes)), ("bitrate", Self.json(f.bitrate)),
            ("packets_lost", String(f.packetsLost)), ("loss", Self.json(f.loss)),
            ("jitter_ms", Self.json(f.jitterMs)), ("rtt_ms", Self.json(f.rttMs)),
            ("nacks", String(f.nacks)), ("plis", String(f.plis)), ("firs", String(f.firs)),
            ("retransmissions", String(f.retransmissions)), ("frames", String(f.frames)),
            ("key_frames", String(f.keyFrames)), ("freezes", String(f.freezes)), ("freeze_ms", Self.json(f.freezeMs)),
            ("delay_ms_p50", Self.json(f.delayMsP50)), ("delay_ms_p95", Self.json(f.delayMsP95)),
            ("target_bitrate", Self.json(f.targetBitrate)), ("pacer_delay_ms", Self.json(f.pacerDelayMs)),
            ("retransmissions_dropped", String(f.retransmissionsDropped)), ("layers_paused", String(f.layersPaused)),
        ]
        // JSONEncoder's .sortedKeys order: the keys' UTF-8 bytes.
        fields.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        var line = "{"
        line.reserveCapacity(700)
        for (index, field) in fields.enumerated() {
            if index > 0 { line += "," }
            line += "\""
            line += field.key
            line += "\":"
            line += field.value
        }
        line += "}"
        return line
    }

    private static func json(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "null" }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        return text
    }

    private static func json(_ value: String?) -> String {
        guard let value else { return "null" }
        var text = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case "\u{08}": text += "\\b"
            case "\u{0C}": text += "\\f"
            case "\u{00}"..."\u{1F}":
                let hex = String(scalar.value, radix: 16)
                text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: text.unicodeScalars.append(scalar)
            }
        }
        return text + "\""
    }
}
