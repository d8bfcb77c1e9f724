import Bytes
import DTLS
import XCTest

final class DTLSRecordTests: XCTestCase {
    func testRoundTrip() throws {
        // A ClientHello record header: handshake, DTLS 1.0 (as ClientHellos carry), epoch 0, seq 0.
        let bytes = [UInt8](hex: "16feff000000000000000000050102030405")!
        let record = try DTLSRecord(parsing: bytes[...])
        XCTAssertEqual(record.contentType, 22)
        XCTAssertEqual(record.version, 0xFEFF)
        XCTAssertEqual(record.epoch, 0)
        XCTAssertEqual(record.sequenceNumber, 0)
        XCTAssertEqual(Array(record.fragment), [1, 2, 3, 4, 5])
        XCTAssertEqual(record.serialize(), bytes)
        let later = DTLSRecord(contentType: 23, epoch: 1, sequenceNumber: 0x0000_1234_5678_9ABC, fragment: [9])
        XCTAssertEqual(try DTLSRecord(parsing: later.serialize()[...]), later)
    }

    func testMalformed() {
        for hex in ["", "16", "16feff00000000000000000005010203", "01feff0000000000000000000100", "16030300000000000000000000"] {
            XCTAssertThrowsError(try DTLSRecord.split([UInt8](hex: hex)![...]), hex)
        }
        XCTAssertTrue(DTLSRecord.looksLikeDTLS([22, 0xFE][...]))
        XCTAssertFalse(DTLSRecord.looksLikeDTLS([0x80][...]))
        XCTAssertFalse(DTLSRecord.looksLikeDTLS([0x00][...]))
    }
}
