import PacketFixtures
#if canImport(Glibc)
import Glibc
#endif

/// CPU time of the calling thread, in seconds.
func threadCPUTime() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Packets per second of this thread's CPU time: one warm-up pass, then passes until at least
/// `minimum` CPU seconds (and 3 passes) went by. `pass` handles every packet of the set once.
func packetsPerCPUSecond(packetsPerPass: Int, minimum: Double = 0.6, _ pass: () throws -> Void) rethrows -> Double {
    try pass()
    let start = threadCPUTime()
    var passes = 0
    repeat {
        try pass()
        passes += 1
    } while passes < 3 || threadCPUTime() - start < minimum
    return Double(passes * packetsPerPass) / (threadCPUTime() - start)
}

/// The packet-path figures: nacho's public SRTP, RTP and Media APIs per packet (the passes of
/// PacketFixtures, made fresh each pass: their set-up is in the figures, amortized) next to raw
/// libsrtp on the same packets.
func runPacketPaths(set: PacketSet, emit: (String, String, Double, String) -> Void) throws {
    let count = set.protected.count
    emit("packet set", "info", Double(count), "packets (\(set.isVideo.filter { $0 }.count) video) for 10 s of 640x480@30 VP8 800 kb/s + Opus 32 kb/s, \(PacketSet.profile.rawValue)")

    var sink = 0
    func perCPUSecond<Pass: PacketPass>(_: Pass.Type) throws -> Double {
        try packetsPerCPUSecond(packetsPerPass: count) {
            var pass = try Pass(set: set)
            sink &+= try pass.run()
        }
    }
    /// Raw libsrtp: a new session each pass (the same packets again would be replays, or too
    /// old to protect).
    func rawPerCPUSecond(inbound: Bool) -> Double {
        packetsPerCPUSecond(packetsPerPass: count) {
            sink &+= RawSRTP(keys: PacketSet.keys, inbound: inbound).run(over: inbound ? set.protected : set.plain)
        }
    }
    // 1. SRTP unprotect: nacho's SRTPContext on a fresh copy of each datagram (as a datagram
    //    read from the socket is), raw libsrtp in one buffer. A new context each pass (the same
    //    packets again would be replays).
    let rawUnprotect = rawPerCPUSecond(inbound: true)
    emit("SRTP unprotect", "nacho", try perCPUSecond(UnprotectPass.self), "packets/s")
    emit("SRTP unprotect", "libsrtp", rawUnprotect, "packets/s")
    // 2. The receive path as MediaReceiver runs it (ReceivePass), no recording.
    emit("receive path", "nacho", try perCPUSecond(ReceivePass.self), "packets/s")
    emit("receive path", "libsrtp", rawUnprotect, "packets/s")
    // 3. The send path as MediaSender runs it (SendPass).
    emit("send path", "nacho", try perCPUSecond(SendPass.self), "packets/s")
    let rawProtect = rawPerCPUSecond(inbound: false)
    emit("send path", "libsrtp", rawProtect, "packets/s")
    if sink == 42 { print("") }  // keeps the work observable
}
