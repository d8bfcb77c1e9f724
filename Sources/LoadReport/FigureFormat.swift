import Foundation

/// How figures read in tables and messages: units spelled out, precision that fits the size.
public enum FigureFormat {
    /// A fraction as a percentage: `3.4 %`, `0.25 %` (two decimals below 1 %), `0 %`.
    public static func percent(_ fraction: Double?) -> String {
        guard let fraction else { return "-" }
        let p = fraction * 100
        if p == 0 { return "0 %" }
        return String(format: p < 1 ? "%.2f %%" : "%.1f %%", p)
    }

    /// Bits per second: `950 bps`, `812 kbps`, `1.25 Mbps`.
    public static func bitrate(_ bps: Double?) -> String {
        guard let bps else { return "-" }
        switch bps {
        case ..<1000: return String(format: "%.0f bps", bps)
        case ..<1_000_000: return String(format: "%.0f kbps", bps / 1000)
        default: return String(format: "%.2f Mbps", bps / 1_000_000)
        }
    }

    /// Milliseconds: `512 ms`, `4.5 ms`; `-` when not measured.
    public static func milliseconds(_ ms: Double?) -> String {
        guard let ms else { return "-" }
        return String(format: ms < 10 ? "%.1f ms" : "%.0f ms", ms)
    }

    /// Seconds: `5.0 s`, `612 s`.
    public static func seconds(_ s: Double?) -> String {
        guard let s else { return "-" }
        return String(format: s < 100 ? "%.1f s" : "%.0f s", s)
    }

    /// A plain number for JSON-free contexts: `12`, `0.5`.
    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(format: "%g", value)
    }
}
