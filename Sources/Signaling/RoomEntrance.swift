import Logging
import ORTC

/// The first steps every participant runs on a server (PROTOCOL.md): `createRoom` → `join` →
/// `getRouterRtpCapabilities` → load the device. Shared by every subcommand.
public struct RoomEntrance: Sendable {
    public var joinAnswer: JoinAnswer
    public var device: Device

    public static func enter(_ session: RoomSession, roomId: String, memberNo: String, joinType: String,
                             logger: Logger) async throws -> RoomEntrance {
        let role = session.configuration.role.rawValue
        try await session.createRoom(roomId: roomId)
        let answer = try await session.join(roomId: roomId, memberNo: memberNo, type: joinType)
        logger.info("joined", metadata: ["server": "\(role)", "room": "\(roomId)", "peers": "\(answer.peers.count)"])
        let capabilities = try await session.routerRtpCapabilities()
        let device: Device
        do {
            device = try Device(routerRtpCapabilities: capabilities)
        } catch {
            throw RoomError.from(error, step: "\(role) load device")
        }
        return RoomEntrance(joinAnswer: answer, device: device)
    }
}
