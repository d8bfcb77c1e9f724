/// One RTCP feedback mechanism of a codec (`nack`, `nack pli`, `ccm fir`, `goog-remb`,
/// `transport-cc`). `parameter` defaults to "" as in mediasoup.
public struct RtcpFeedback: Sendable, Hashable, Codable, CustomStringConvertible {
    public var type: String
    public var parameter: String

    public init(type: String, parameter: String = "") {
        self.type = type
        self.parameter = parameter
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decode(String.self, forKey: .type)
        parameter = try c.decodeIfPresent(String.self, forKey: .parameter) ?? ""
    }

    public var description: String { parameter.isEmpty ? type : "\(type) \(parameter)" }

    public static let nack = RtcpFeedback(type: "nack")
    public static let pli = RtcpFeedback(type: "nack", parameter: "pli")
    public static let fir = RtcpFeedback(type: "ccm", parameter: "fir")
    public static let remb = RtcpFeedback(type: "goog-remb")
    public static let transportCC = RtcpFeedback(type: "transport-cc")
}
