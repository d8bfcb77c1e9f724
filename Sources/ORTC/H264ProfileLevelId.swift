/// An H264 `profile-level-id` (RFC 6184 §8.1: profile_idc, profile_iop, level_idc as six hex
/// digits) reduced to a profile and a level, the way mediasoup's `h264-profile-level-id`
/// package (and libwebrtc's `h264_profile_level_id`) reads it: the profile is what the two
/// first bytes mean together (42e0 and 4d80 are both constrained baseline), so codecs are
/// compared by profile, never by string.
public struct H264ProfileLevelId: Sendable, Hashable, CustomStringConvertible {
    public enum Profile: Int, Sendable, Hashable, CaseIterable {
        case constrainedBaseline = 1, baseline, main, constrainedHigh, high, predictiveHigh444
    }

    /// H.264 Table A-1 levels; the raw value is level_idc (1b, which shares level_idc 11 with
    /// 1.1 in baseline-family profiles, is 0).
    public enum Level: Int, Sendable, Hashable, CaseIterable {
        case l1b = 0, l1 = 10, l1_1 = 11, l1_2 = 12, l1_3 = 13, l2 = 20, l2_1 = 21, l2_2 = 22, l3 = 30, l3_1 = 31,
             l3_2 = 32, l4 = 40, l4_1 = 41, l4_2 = 42, l5 = 50, l5_1 = 51, l5_2 = 52

        /// The package's `isLessLevel`, kept as it is because mediasoup answers with it: 1b
        /// is below every level but 1, and, unlike libwebrtc's `IsLess` (where only 1 is below
        /// 1b), every level but 1 also counts as below 1b. Not an order: `minLevel` then
        /// depends on which side is 1b. Irrelevant for any level above 1.1.
        public static func isLess(_ a: Level, _ b: Level) -> Bool {
            if a == .l1b { return b != .l1 && b != .l1b }
            if b == .l1b { return a != .l1 }
            return a.rawValue < b.rawValue
        }

        /// The package's `minLevel(a, b)`: a when `isLess(a, b)`, else b.
        public static func minLevel(_ a: Level, _ b: Level) -> Level { isLess(a, b) ? a : b }
    }

    public var profile: Profile
    public var level: Level

    public init(profile: Profile, level: Level) {
        self.profile = profile
        self.level = level
    }

    /// What an endpoint means when it gives no `profile-level-id`: constrained baseline 3.1
    /// (libwebrtc's interim default, which mediasoup keeps; RFC 6184 would say baseline 1).
    public static let sdpDefault = H264ProfileLevelId(profile: .constrainedBaseline, level: .l3_1)

    /// profile_idc, then a pattern over profile_iop (x = either): RFC 6184 §8.1 table.
    private static let patterns: [(idc: UInt8, mask: UInt8, value: UInt8, profile: Profile)] = [
        (0x42, 0b0100_1111, 0b0100_0000, .constrainedBaseline),  // x1xx0000
        (0x4D, 0b1000_1111, 0b1000_0000, .constrainedBaseline),  // 1xxx0000
        (0x58, 0b1100_1111, 0b1100_0000, .constrainedBaseline),  // 11xx0000
        (0x42, 0b0100_1111, 0b0000_0000, .baseline),             // x0xx0000
        (0x58, 0b1100_1111, 0b1000_0000, .baseline),             // 10xx0000
        (0x4D, 0b1010_1111, 0b0000_0000, .main),                 // 0x0x0000
        (0x64, 0b1111_1111, 0b0000_0000, .high),                 // 00000000
        (0x64, 0b1111_1111, 0b0000_1100, .constrainedHigh),      // 00001100
        (0xF4, 0b1111_1111, 0b0000_0000, .predictiveHigh444),    // 00000000
    ]

    /// Parses six hex digits; nil when they are not a known profile and level (as the
    /// package's `parseProfileLevelId` returns undefined).
    public init?(_ text: String) {
        guard text.utf8.count == 6, let value = UInt32(text, radix: 16), value != 0 else { return nil }
        let levelIdc = UInt8(truncatingIfNeeded: value)
        let profileIop = UInt8(truncatingIfNeeded: value >> 8)
        let profileIdc = UInt8(truncatingIfNeeded: value >> 16)
        let level: Level
        if levelIdc == 11 {
            // constraint_set3_flag picks 1b over 1.1 (H.264 A.3.1).
            level = profileIop & 0x10 != 0 ? .l1b : .l1_1
        } else if levelIdc != 0, let known = Level(rawValue: Int(levelIdc)) {
            level = known
        } else {
            return nil
        }
        guard let pattern = Self.patterns.first(where: { $0.idc == profileIdc && profileIop & $0.mask == $0.value }) else {
            return nil
        }
        self.init(profile: pattern.profile, level: level)
    }

    /// The canonical six hex digits, or nil for combinations that have none (1b outside the
    /// baseline family), as `profileLevelIdToString`.
    public var string: String? {
        if level == .l1b {
            switch profile {
            case .constrainedBaseline: return "42f00b"
            case .baseline: return "42100b"
            case .main: return "4d100b"
            default: return nil
            }
        }
        let prefix: String
        switch profile {
        case .constrainedBaseline: prefix = "42e0"
        case .baseline: prefix = "4200"
        case .main: prefix = "4d00"
        case .constrainedHigh: prefix = "640c"
        case .high: prefix = "6400"
        case .predictiveHigh444: prefix = "f400"
        }
        let hex = String(level.rawValue, radix: 16)
        return prefix + (hex.count == 1 ? "0" + hex : hex)
    }

    public var description: String { string ?? "\(profile) \(level)" }

    /// The profile-level-id of a codec's parameters: the default when absent (or falsy, as in
    /// JavaScript: "" or 0), nil when present but not valid. Only a string can be valid.
    public static func parse(parameters: [String: CodecParameterValue]) -> H264ProfileLevelId? {
        let value = parameters["profile-level-id"]
        if isAbsent(value) { return sdpDefault }
        guard case .string(let text) = value else { return nil }
        return H264ProfileLevelId(text)
    }

    /// JavaScript falsiness, which the package's checks rely on.
    private static func isAbsent(_ value: CodecParameterValue?) -> Bool {
        switch value {
        case nil, .string(""), .int(0): return true
        case .double(let d): return d == 0
        default: return false
        }
    }

    /// Same profile, levels aside (`isSameProfile`); false when either is invalid.
    public static func isSameProfile(_ a: [String: CodecParameterValue], _ b: [String: CodecParameterValue]) -> Bool {
        guard let first = parse(parameters: a), let second = parse(parameters: b) else { return false }
        return first.profile == second.profile
    }

    /// `level-asymmetry-allowed` set to 1 (number or string).
    public static func levelAsymmetryAllowed(_ parameters: [String: CodecParameterValue]) -> Bool {
        switch parameters["level-asymmetry-allowed"] {
        case .int(1), .string("1"): return true
        case .double(let d): return d == 1
        default: return false
        }
    }

    public enum AnswerError: Error, Sendable, Equatable {
        case invalidLocal, invalidRemote, profileMismatch
    }

    /// The profile-level-id to answer with (`generateProfileLevelIdStringForAnswer`): nil when
    /// neither side gives one; the local level when both allow level asymmetry, otherwise the
    /// lower of the two levels.
    public static func answer(local: [String: CodecParameterValue], remote: [String: CodecParameterValue]) throws -> String? {
        if isAbsent(local["profile-level-id"]) && isAbsent(remote["profile-level-id"]) { return nil }
        guard let localId = parse(parameters: local) else { throw AnswerError.invalidLocal }
        guard let remoteId = parse(parameters: remote) else { throw AnswerError.invalidRemote }
        guard localId.profile == remoteId.profile else { throw AnswerError.profileMismatch }
        let asymmetry = levelAsymmetryAllowed(local) && levelAsymmetryAllowed(remote)
        let level = asymmetry ? localId.level : Level.minLevel(localId.level, remoteId.level)
        return H264ProfileLevelId(profile: localId.profile, level: level).string
    }
}
