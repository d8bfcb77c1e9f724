/// 16-bit sequence numbers (RTP's, transport-wide ones) read as 64-bit numbers that do not wrap.
public enum SequenceNumber {
    /// The extended number whose low 16 bits are `sequence` and that lies closest to
    /// `reference` (at most 2^15 before or after it): RFC 3550 A.1's idea.
    @inline(__always)
    public static func extend(_ sequence: UInt16, near reference: Int64) -> Int64 {
        reference + Int64(Int16(bitPattern: sequence &- UInt16(truncatingIfNeeded: reference)))
    }
}
