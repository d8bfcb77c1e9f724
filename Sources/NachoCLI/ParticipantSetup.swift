import DTLS
import Foundation
import Logging
import Participant

/// What `join` and `record` (and every command that takes part in a room) set up the same way:
/// the DTLS certificate, the participant configuration, and the stop signal wired to signals and `--duration`.
enum ParticipantSetup {
    static func participant(settings: ResolvedSettings, forceTcp: Bool, logger: Logger, command: String) throws -> ParticipantConfiguration {
        let certificate: DTLSCertificate
        do {
            certificate = try DTLSCertificate.generate()
        } catch {
            throw NachoFailure(.mediaFailure, "\(command): cannot create the DTLS certificate: \(error)")
        }
        return ParticipantConfiguration(
            roomId: settings.room, memberNo: settings.member, certificate: certificate,
            transportConfiguration: settings.transportConfiguration(forceTcp: forceTcp),
            cname: "nacho-\(settings.member)-\(UInt32.random(in: 0...UInt32.max))", logger: logger,
            supervision: settings.supervision)
    }

    /// Fires on SIGINT/SIGTERM or after `duration` seconds; `lastWords` runs on a second signal.
    static func stopSignal(duration: Double?, lastWords: @escaping @Sendable () -> Void) -> StopSignal {
        let stop = StopSignal()
        SignalTrap.install(stop, lastWords: lastWords)
        if let duration {
            Task {
                try? await Task.sleep(for: .milliseconds(Int(duration * 1000)))
                stop.fire()
            }
        }
        return stop
    }
}
