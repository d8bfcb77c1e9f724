/// A raw video frame in I420 (Y, then U, then V; no padding between rows).
public struct VideoFrame: Sendable {
    public var width: Int
    public var height: Int
    public var data: [UInt8]
    /// Capture time in seconds on the monotonic clock (`MediaClock.now`).
    public var captureTime: Double

    public init(width: Int, height: Int, data: [UInt8], captureTime: Double) {
        precondition(data.count == Self.byteCount(width: width, height: height), "I420 buffer of the wrong size")
        self.width = width
        self.height = height
        self.data = data
        self.captureTime = captureTime
    }

    /// The I420 size of a picture; `Int.max` when it does not fit in an Int (no buffer could
    /// hold it), so a size read from a file can be compared with it without trapping.
    public static func byteCount(width: Int, height: Int) -> Int {
        let chromaWidth = width / 2 + width % 2, chromaHeight = height / 2 + height % 2
        let luma = width.multipliedReportingOverflow(by: height)
        let chroma = chromaWidth.multipliedReportingOverflow(by: chromaHeight)
        let chromaPlanes = chroma.partialValue.multipliedReportingOverflow(by: 2)
        let total = luma.partialValue.addingReportingOverflow(chromaPlanes.partialValue)
        guard !luma.overflow, !chroma.overflow, !chromaPlanes.overflow, !total.overflow else { return .max }
        return total.partialValue
    }
}

/// 20 ms of 48 kHz signed 16-bit PCM, interleaved.
public struct AudioFrame: Sendable {
    public static let sampleRate = 48000
    public static let samplesPerChannel = 960
    public var channels: Int
    public var samples: [Int16]
    public var captureTime: Double

    public init(channels: Int, samples: [Int16], captureTime: Double) {
        precondition(samples.count == Self.samplesPerChannel * channels, "an audio frame is 20 ms")
        self.channels = channels
        self.samples = samples
        self.captureTime = captureTime
    }

    /// RMS level in dBov (0 = full scale, -127 = silence), as the audio-level extension
    /// (RFC 6464) carries it.
    public var level: Double {
        guard !samples.isEmpty else { return -127 }
        var sum = 0.0
        for sample in samples {
            let v = Double(sample) / 32768
            sum += v * v
        }
        let rms = (sum / Double(samples.count)).squareRoot()
        return rms > 0 ? max(-127, 20 * log10(rms)) : -127
    }
}

/// Monotonic seconds, for capture times and RTCP arithmetic.
public enum MediaClock {
    public static var now: Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

#if canImport(Glibc)
import Glibc
#endif
