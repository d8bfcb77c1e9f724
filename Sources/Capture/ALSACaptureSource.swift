internal import CALSA
import Logging
import Media

/// Microphone capture through ALSA (libasound2): 48 kHz S16_LE, interleaved, 20 ms reads;
/// overruns are recovered (and counted), a missing or busy device is a clear error at open.
public final class ALSACaptureSource: AudioSource {
    public let channels: Int
    public let device: String
    public private(set) var overruns = 0
    private var pcm: OpaquePointer?
    private var buffer: [Int16]
    private var startTime: Double?
    private var framesRead = 0

    public init(device: String, channels: Int) throws {
        self.device = device
        self.channels = channels
        buffer = [Int16](repeating: 0, count: AudioFrame.samplesPerChannel * channels)
        CALSA_silence_library_errors()
        var handle: OpaquePointer?
        var status = snd_pcm_open(&handle, device, SND_PCM_STREAM_CAPTURE, 0)
        guard status >= 0, let handle else {
            let reason = status == -16 ? "the device is busy (another program is using it)" : Self.describe(status)
            throw MediaError.source("audio source alsa:\(device): cannot open the capture device: \(reason)")
        }
        // 20 ms periods, about 100 ms of buffer; ALSA resamples when the device cannot do 48 kHz.
        status = snd_pcm_set_params(handle, SND_PCM_FORMAT_S16_LE, SND_PCM_ACCESS_RW_INTERLEAVED, UInt32(channels), 48000, 1, 100_000)
        guard status >= 0 else {
            snd_pcm_close(handle)
            throw MediaError.source("audio source alsa:\(device): cannot capture 48 kHz \(channels)-channel 16-bit audio: \(Self.describe(status))")
        }
        pcm = handle
    }

    deinit { if let pcm { snd_pcm_close(pcm) } }

    public var summary: String { "ALSA \(device), 48 kHz, \(channels) channel\(channels == 1 ? "" : "s")" }

    public func start() throws {
        guard let pcm else { return }
        let status = snd_pcm_start(pcm)
        if status < 0 && status != -77 /* EBADFD: started on first read */ {
            _ = snd_pcm_prepare(pcm)
        }
    }

    /// Blocks until 20 ms are captured.
    public func nextFrame() throws -> AudioFrame? {
        guard let pcm else { return nil }
        var filled = 0
        while filled < AudioFrame.samplesPerChannel {
            let read = buffer.withUnsafeMutableBufferPointer { samples in
                snd_pcm_readi(pcm, samples.baseAddress! + filled * channels, snd_pcm_uframes_t(AudioFrame.samplesPerChannel - filled))
            }
            if read >= 0 {
                filled += Int(read)
                continue
            }
            switch Int32(read) {
            case -32:  // EPIPE: overrun, we were too slow; restart and carry on
                overruns += 1
                _ = snd_pcm_prepare(pcm)
            case -86:  // ESTRPIPE: suspended
                while snd_pcm_resume(pcm) == -11 { usleep(100_000) }
                _ = snd_pcm_prepare(pcm)
            case -11, -4:  // EAGAIN, EINTR
                continue
            default:
                throw MediaError.source("audio source alsa:\(device): capture failed: \(Self.describe(Int32(read)))")
            }
        }
        // Devices without a clock of their own (ALSA's file and null plugins, some loopbacks)
        // deliver as fast as they are read: never run ahead of real time by more than 100 ms.
        let now = MediaClock.now
        let start = startTime ?? now
        startTime = start
        framesRead += 1
        let due = start + Double(framesRead) * 0.02
        if due - now > 0.1 { Pacer.sleep(until: due - 0.1) }
        return AudioFrame(channels: channels, samples: buffer, captureTime: max(now, due - 0.1) - 0.02)
    }

    public func stop() {
        if let pcm { _ = snd_pcm_drop(pcm) }
    }

    static func describe(_ status: Int32) -> String {
        String(cString: snd_strerror(status)).lowercased()
    }
}

#if canImport(Glibc)
import Glibc
#endif
