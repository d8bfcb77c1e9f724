import Benchmark
import PacketFixtures

/// The recorded stream every packet-path benchmark runs on: 10 s of 640x480@30 VP8 at 800 kb/s
/// and Opus 32 kb/s, as `nacho-bench` uses it. Made once per process, before any measurement.
enum Fixtures {
    static let set = Result { try PacketSet(seconds: 10, width: 640, height: 480, fps: 30, bitrate: 800_000) }
}

/// A fresh pass made outside the measurement, then one run over the whole set.
func measure<Pass: PacketPass>(_: Pass.Type, _ benchmark: Benchmark) throws {
    var pass = try Pass(set: Fixtures.set.get())
    benchmark.startMeasurement()
    let work = try pass.run()
    benchmark.stopMeasurement()
    blackHole(work)
}
