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
        func fail(_ why: String) -> MediaError { MediaError.source("audio source file:\(path): \(why)") }
        let file: WAVFile
        do {
            let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
            guard size <= WAVFile.maxFileSize else { throw fail("\(size) bytes is too large for a file held in memory") }
            file = try WAVFile(parsing: [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
        } catch let error as MediaError {
            throw error
        } catch let error as SourceFileFormatError {
            throw fail(error.reason)
        } catch {
            throw fail("cannot read it (\((error as NSError).localizedDescription))")
        }
        channels = file.channels
        samples = file.samples
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
