/// Member numbers, run ids and track ids are strings in docs/STATS.md; a writer that emits a
/// member number as a JSON number is still understood, since both name the same member.
extension KeyedDecodingContainer {
    func decodeIdentifier(forKey key: Key) throws -> String {
        if let number = try? decode(Int.self, forKey: key) { return String(number) }
        return try decode(String.self, forKey: key)
    }

    func decodeIdentifierIfPresent(forKey key: Key) throws -> String? {
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        return try decodeIdentifier(forKey: key)
    }
}
