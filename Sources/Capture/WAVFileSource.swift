import Foundation
import Media

/// A WAV file (RIFF, 16-bit PCM, 48 kHz, mono or stereo) played in real time, looping at the
/// end so a bot can talk for as long as it stays.
public final class WAVFileSource: AudioSource {
    public let channels: Int
    private let samples: [Int16]
    private let path: String
    private var position = 0
    private var startTime: Double = 0
    private var sent = 0

    public init(path: String) throws {
        self.path = path
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw MediaError.source("audio source file:\(path): cannot read it (\((error as NSError).localizedDescription))")
        }
        let bytes = [UInt8](data)
        func u32(_ i: Int) -> Int { Int(bytes[i]) | Int(bytes[i + 1]) << 8 | Int(bytes[i + 2]) << 16 | Int(bytes[i + 3]) << 24 }
        func u16(_ i: Int) -> Int { Int(bytes[i]) | Int(bytes[i + 1]) << 8 }
        guard bytes.count >= 12, String(decoding: bytes[0..<4], as: UTF8.self) == "RIFF",
              String(decoding: bytes[8..<12], as: UTF8.self) == "WAVE" else {
            throw MediaError.source("audio source file:\(path): not a WAV file")
        }
        var offset = 12
        var format: (channels: Int, rate: Int, bits: Int, tag: Int)?
        var pcm: ArraySlice<UInt8>?
        while offset + 8 <= bytes.count {
            let id = String(decoding: bytes[offset..<(offset + 4)], as: UTF8.self)
            let size = u32(offset + 4)
            let body = offset + 8
            guard body + size <= bytes.count || id == "data" else { break }
            if id == "fmt ", size >= 16 {
                format = (u16(body + 2), u32(body + 4), u16(body + 14), u16(body))
            } else if id == "data" {
                pcm = bytes[body..<min(bytes.count, body + size)]
            }
            offset = body + size + (size & 1)
        }
        guard let format, let pcm else { throw MediaError.source("audio source file:\(path): WAV without fmt or data chunk") }
        guard format.tag == 1 || format.tag == 0xFFFE, format.bits == 16, format.rate == 48000, (1...2).contains(format.channels) else {
            throw MediaError.source("audio source file:\(path): needs 16-bit PCM at 48000 Hz, mono or stereo (has \(format.bits)-bit, \(format.rate) Hz, \(format.channels) channels); convert it with: ffmpeg -i IN -ar 48000 -ac 1 -c:a pcm_s16le OUT.wav")
        }
        channels = format.channels
        samples = stride(from: pcm.startIndex, to: pcm.endIndex - 1, by: 2).map { Int16(bitPattern: UInt16(pcm[$0]) | UInt16(pcm[$0 + 1]) << 8) }
        guard samples.count >= AudioFrame.samplesPerChannel * channels else {
            throw MediaError.source("audio source file:\(path): shorter than one 20 ms frame")
        }
    }

    public var summary: String { "file \(path) (\(channels) channel\(channels == 1 ? "" : "s"), looping)" }

    public func start() throws { startTime = MediaClock.now }

    public func nextFrame() throws -> AudioFrame? {
        let due = startTime + Double(sent * AudioFrame.samplesPerChannel) / Double(AudioFrame.sampleRate)
        Pacer.sleep(until: due)
        let count = AudioFrame.samplesPerChannel * channels
        var frame = [Int16]()
        frame.reserveCapacity(count)
        while frame.count < count {
            let take = min(count - frame.count, samples.count - position)
            frame.append(contentsOf: samples[position..<(position + take)])
            position = (position + take) % samples.count
        }
        sent += 1
        return AudioFrame(channels: channels, samples: frame, captureTime: due)
    }

    public func stop() {}
}
