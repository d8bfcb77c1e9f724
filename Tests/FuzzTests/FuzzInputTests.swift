import FuzzHarness
import XCTest

/// The input reader every harness shares: past the end it yields zeros and empty chunks, so any
/// byte string is a valid script, and the writer the seed generators use reads back.
final class FuzzInputTests: XCTestCase {
    func testReadsPastTheEndYieldZerosAndEmptyChunks() {
        var input = FuzzInput([0x12, 0x34, 0x00, 0x05, 0xAA])
        XCTAssertEqual(input.u16(), 0x1234)
        XCTAssertEqual(input.chunk(), [0xAA], "a chunk longer than the rest is cut")
        XCTAssertTrue(input.isAtEnd)
        XCTAssertEqual(input.u8(), 0)
        XCTAssertEqual(input.u32(), 0)
        XCTAssertFalse(input.bool())
        XCTAssertEqual(input.chunk(), [])
        XCTAssertEqual(input.rest(), [])
    }

    func testWriterOutputReadsBack() {
        var writer = FuzzInputWriter()
        writer.u8(7)
        writer.u16(0xBEEF)
        writer.u32(0xDEAD_BEEF)
        writer.bool(true)
        writer.chunk([1, 2, 3])
        writer.raw([9])
        var input = FuzzInput(writer.bytes)
        XCTAssertEqual(input.u8(), 7)
        XCTAssertEqual(input.u16(), 0xBEEF)
        XCTAssertEqual(input.u32(), 0xDEAD_BEEF)
        XCTAssertTrue(input.bool())
        XCTAssertEqual(input.chunk(), [1, 2, 3])
        XCTAssertEqual(input.rest(), [9])
    }

    /// Every harness takes any bytes, the empty input and a run of 0xFF included.
    func testEveryHarnessTakesDegenerateInputs() {
        for target in FuzzTarget.allCases {
            target.run([])
            target.run([UInt8](repeating: 0xFF, count: 64))
            target.run([UInt8](repeating: 0x00, count: 64))
        }
    }
}
