import CALSA
import COpenSSL
import COpus
import CSRTP
import CV4L2
import CVPX
import XCTest

/// Each C library of the media stack links and reports a version: a missing -dev package or a
/// broken pkg-config entry fails here, before any layer that uses it.
final class CLibrariesTests: XCTestCase {
    func testEachLibraryLinksAndReportsItsVersion() throws {
        XCTAssertTrue(String(cString: OpenSSL_version(OPENSSL_VERSION)).hasPrefix("OpenSSL 3"))
        XCTAssertTrue(String(cString: srtp_get_version_string()).contains("2."))
        XCTAssertTrue(String(cString: opus_get_version_string()).hasPrefix("libopus"))
        XCTAssertFalse(String(cString: vpx_codec_version_str()).isEmpty)
        XCTAssertTrue(String(cString: snd_asoundlib_version()).hasPrefix("1."))
        // libv4l2 has no version call: opening a path that is not a device must fail cleanly.
        XCTAssertEqual(v4l2_fd_open(-1, 0), -1)
    }
}
