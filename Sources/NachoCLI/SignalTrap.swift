import Dispatch
import Foundation
import Participant

/// Turns SIGINT and SIGTERM into a graceful stop: the first one fires `stop` (recordings are
/// finished, then the room is left in order, within about two seconds); a second one finishes
/// the recordings the fast way (`lastWords`: cues and sizes, no goodbyes to the server) and
/// exits at once.
enum SignalTrap {
    /// Kept alive for the process's life. Unsafe because it is a global; sound because
    /// `install` runs once, from `main`, before any other thread could read it.
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    static func install(_ stop: StopSignal, lastWords: @escaping @Sendable () -> Void = {}) {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                if stop.isFired {
                    lastWords()
                    exit(128 + signalNumber)
                }
                FileHandle.standardError.write(Data("nacho: stopping (press Ctrl-C again to quit at once)\n".utf8))
                stop.fire()
            }
            source.resume()
            sources.append(source)
        }
    }
}
