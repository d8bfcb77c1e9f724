// TEMPORARY until the recording branch lands.
extension MemberRecorder {
    public func setPaused(track id: String, _ paused: Bool) {}
}
