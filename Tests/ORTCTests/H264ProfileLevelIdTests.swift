import ORTC
import XCTest

/// profile-level-id as the h264-profile-level-id package (mediasoup's) and libwebrtc read it:
/// RFC 6184 §8.1's profile_idc / profile_iop table, H.264 Table A-1 levels.
final class H264ProfileLevelIdTests: XCTestCase {
    typealias P = H264ProfileLevelId

    func testParsesProfilesAndLevels() {
        let cases: [(String, P.Profile, P.Level)] = [
            ("42e01f", .constrainedBaseline, .l3_1),   // what browsers offer first
            ("42c01f", .constrainedBaseline, .l3_1),   // what x264 writes into the SPS of the capture
            ("42001f", .baseline, .l3_1),
            ("42a01f", .baseline, .l3_1),              // iop x0xx0000 with constraint_set0/2: still baseline
            ("4d001f", .main, .l3_1),
            ("4d801f", .constrainedBaseline, .l3_1),   // main with constraint_set0: constrained baseline
            ("58f01f", .constrainedBaseline, .l3_1),
            ("58a01f", .baseline, .l3_1),
            ("640032", .high, .l5),
            ("640c2a", .constrainedHigh, .l4_2),
            ("f4001f", .predictiveHigh444, .l3_1),
            ("42E01F", .constrainedBaseline, .l3_1),   // hex digits in either case
            ("42e00b", .constrainedBaseline, .l1_1),   // level_idc 11 without constraint_set3: 1.1
            ("42f00b", .constrainedBaseline, .l1b),    // ... with constraint_set3: 1b
            ("4d100b", .main, .l1b),
            ("640034", .high, .l5_2),
        ]
        for (text, profile, level) in cases {
            let parsed = P(text)
            XCTAssertEqual(parsed?.profile, profile, text)
            XCTAssertEqual(parsed?.level, level, text)
        }
    }

    func testRejectsWhatIsNotAProfileLevelId() {
        for text in ["", "42e01", "42e01f0", "zzzzzz", "000000", "42e000", "42e009", "42e035", "ff001f", "64f01f",
                     "4d201f", "+2e01f", " 42e01"] {
            XCTAssertNil(P(text), text.debugDescription)
        }
    }

    func testCanonicalStrings() {
        XCTAssertEqual(P(profile: .constrainedBaseline, level: .l3_1).string, "42e01f")
        XCTAssertEqual(P(profile: .baseline, level: .l1).string, "42000a")
        XCTAssertEqual(P(profile: .main, level: .l3_1).string, "4d001f")
        XCTAssertEqual(P(profile: .constrainedHigh, level: .l4_2).string, "640c2a")
        XCTAssertEqual(P(profile: .high, level: .l5).string, "640032")
        XCTAssertEqual(P(profile: .predictiveHigh444, level: .l3_1).string, "f4001f")
        XCTAssertEqual(P(profile: .constrainedBaseline, level: .l1b).string, "42f00b")
        XCTAssertEqual(P(profile: .baseline, level: .l1b).string, "42100b")
        XCTAssertEqual(P(profile: .main, level: .l1b).string, "4d100b")
        XCTAssertNil(P(profile: .high, level: .l1b).string, "1b only exists in the baseline family")
        // Round trip through the canonical form keeps profile and level.
        for text in ["42c01f", "4d801f", "42f00b", "640c2a"] {
            let parsed = try? XCTUnwrap(P(text))
            XCTAssertEqual(parsed.flatMap { $0.string.flatMap(P.init) }, parsed, text)
        }
    }

    /// The package's comparison, quirk included (mediasoup answers with it).
    func testLevelComparisonLikeThePackage() {
        XCTAssertTrue(P.Level.isLess(.l1b, .l1_1))
        XCTAssertTrue(P.Level.isLess(.l3_1, .l4))
        XCTAssertFalse(P.Level.isLess(.l4, .l3_1))
        XCTAssertFalse(P.Level.isLess(.l1b, .l1b))
        XCTAssertFalse(P.Level.isLess(.l1, .l1b), "libwebrtc says true; the package says false")
        XCTAssertTrue(P.Level.isLess(.l3_1, .l1b), "the package's quirk: any level but 1 is 'below' 1b")
        XCTAssertEqual(P.Level.minLevel(.l1b, .l3_1), .l1b)
        XCTAssertEqual(P.Level.minLevel(.l3_1, .l1b), .l3_1)
        XCTAssertEqual(P.Level.minLevel(.l4, .l3_1), .l3_1)
    }

    func testSDPParameters() {
        XCTAssertEqual(P.parse(parameters: [:]), P.sdpDefault, "absent: constrained baseline 3.1")
        XCTAssertEqual(P.parse(parameters: ["profile-level-id": .string("")]), P.sdpDefault, "falsy as in JavaScript")
        XCTAssertNil(P.parse(parameters: ["profile-level-id": .string("xyz")]))
        XCTAssertNil(P.parse(parameters: ["profile-level-id": .int(640032)]), "a number is not a profile-level-id string")
        XCTAssertTrue(P.isSameProfile(["profile-level-id": .string("42e01f")], ["profile-level-id": .string("42c00b")]))
        XCTAssertTrue(P.isSameProfile([:], ["profile-level-id": .string("42e01f")]))
        XCTAssertFalse(P.isSameProfile(["profile-level-id": .string("42e01f")], ["profile-level-id": .string("42001f")]))
        XCTAssertFalse(P.isSameProfile(["profile-level-id": .string("bogus")], ["profile-level-id": .string("bogus")]))
        XCTAssertTrue(P.levelAsymmetryAllowed(["level-asymmetry-allowed": .int(1)]))
        XCTAssertTrue(P.levelAsymmetryAllowed(["level-asymmetry-allowed": .string("1")]))
        XCTAssertFalse(P.levelAsymmetryAllowed(["level-asymmetry-allowed": .int(0)]))
        XCTAssertFalse(P.levelAsymmetryAllowed([:]))
    }

    /// generateProfileLevelIdStringForAnswer: the local level with level asymmetry on both
    /// sides, else the lower level; the local profile; errors for invalid or different profiles.
    func testAnswer() throws {
        func params(_ id: String?, asymmetry: Bool) -> [String: CodecParameterValue] {
            var out: [String: CodecParameterValue] = asymmetry ? ["level-asymmetry-allowed": .int(1)] : [:]
            if let id { out["profile-level-id"] = .string(id) }
            return out
        }
        let cases: [(local: [String: CodecParameterValue], remote: [String: CodecParameterValue], answer: String?)] = [
            (params("42e01f", asymmetry: true), params("42e01f", asymmetry: true), "42e01f"),
            (params("42e01f", asymmetry: true), params("42e00b", asymmetry: true), "42e01f"),  // local level kept
            (params("42e01f", asymmetry: false), params("42e00b", asymmetry: true), "42e00b"),  // lower level
            (params("42e00b", asymmetry: false), params("42e01f", asymmetry: false), "42e00b"),
            (params("4d001f", asymmetry: false), params("4d0032", asymmetry: false), "4d001f"),
            (params("42f00b", asymmetry: false), params("42e01f", asymmetry: false), "42f00b"),  // 1b below 3.1
            (params("42e01f", asymmetry: false), params("42f00b", asymmetry: false), "42e01f"),  // the package's 1b quirk
            (params(nil, asymmetry: false), params("42e00a", asymmetry: false), "42e00a"),  // local default CB 3.1, min
            (params(nil, asymmetry: false), params(nil, asymmetry: false), nil),  // neither: leave it out
        ]
        for (index, item) in cases.enumerated() {
            XCTAssertEqual(try P.answer(local: item.local, remote: item.remote), item.answer, "case \(index)")
        }
        XCTAssertThrowsError(try P.answer(local: params("640032", asymmetry: true), remote: params("640c1f", asymmetry: true))) {
            XCTAssertEqual($0 as? P.AnswerError, .profileMismatch, "high vs constrained high")
        }
        XCTAssertThrowsError(try P.answer(local: params("bogus", asymmetry: true), remote: params("42e01f", asymmetry: true))) {
            XCTAssertEqual($0 as? P.AnswerError, .invalidLocal)
        }
        XCTAssertThrowsError(try P.answer(local: params("42e01f", asymmetry: true), remote: params("42e0", asymmetry: true))) {
            XCTAssertEqual($0 as? P.AnswerError, .invalidRemote)
        }
    }
}
