import Foundation
import Media

/// A tone (440 Hz at -10 dBFS) or, with the `speech` variant, a speech-like signal: noise
/// shaped by a syllable-rate envelope with pauses, so DTX and level meters have something to
/// do. Paced at 20 ms.
public final class SyntheticAudioSource: AudioSource {
    public let channels: Int
    private let speechLike: Bool
    private var sample = 0
    private var startTime: Double = 0
    private var noise: UInt64 = 0x1234_5678

    public init(channels: Int, speechLike: Bool = false) {
        self.channels = channels
        self.speechLike = speechLike
    }

    public var summary: String { speechLike ? "synthetic speech-like signal" : "synthetic 440 Hz tone at -10 dBFS" }

    public func start() throws { startTime = MediaClock.now }

    public func nextFrame() throws -> AudioFrame? {
        let due = startTime + Double(sample) / Double(AudioFrame.sampleRate)
        Pacer.sleep(until: due)
        var samples = [Int16](repeating: 0, count: AudioFrame.samplesPerChannel * channels)
        let amplitude = 0.316 * 32767  // -10 dBFS
        for i in 0..<AudioFrame.samplesPerChannel {
            let t = Double(sample + i) / Double(AudioFrame.sampleRate)
            var value: Double
            if speechLike {
                noise = noise &* 6364136223846793005 &+ 1442695040888963407
                let white = Double(Int64(bitPattern: noise) >> 40) / Double(1 << 23)
                let syllable = max(0, sin(2 * .pi * 4 * t))  // ~4 syllables a second
                let phrase = sin(2 * .pi * 0.25 * t) > -0.3 ? 1.0 : 0.0  // pauses
                value = (0.6 * white + 0.4 * sin(2 * .pi * 160 * t)) * syllable * phrase
            } else {
                value = sin(2 * .pi * 440 * t)
            }
            let s = Int16(clamping: Int((value * amplitude).rounded()))
            for c in 0..<channels { samples[i * channels + c] = s }
        }
        let frame = AudioFrame(channels: channels, samples: samples, captureTime: due)
        sample += AudioFrame.samplesPerChannel
        return frame
    }

    public func stop() {}
}
