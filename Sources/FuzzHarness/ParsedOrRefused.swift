/// What a file parser made of fuzzed bytes: the value, or nil when it refused them by throwing
/// `refusal` (its error for malformed input); any other error breaks the invariant every
/// parser keeps.
func parsedOrRefused<Value, Refusal: Error>(refusing refusal: Refusal.Type, _ parse: () throws -> Value) -> Value? {
    do {
        return try parse()
    } catch {
        require(error is Refusal, "\(Value.self) threw \(type(of: error)): \(error)")
        return nil
    }
}
