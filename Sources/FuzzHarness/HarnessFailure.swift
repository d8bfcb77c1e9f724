/// A broken invariant: stops the process the way a trap in the code under test would, so
/// libFuzzer keeps the input as a crash and the replay test names it. `fatalError` stays in
/// every build mode, including -Ounchecked.
func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
             file: StaticString = #fileID, line: UInt = #line) {
    if !condition() {
        // Clipped: a message may quote a whole fuzzed list or frame.
        let text = message()
        fatalError("fuzz invariant: \(text.count > 300 ? text.prefix(300) + "..." : text)", file: file, line: line)
    }
}
