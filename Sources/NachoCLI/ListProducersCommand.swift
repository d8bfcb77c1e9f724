import ArgumentParser
import Foundation
import Synchronization
import ORTC
import Signaling
import SocketIO

/// `nacho list-producers`: joins the edge as a consumer and prints who is producing what.
public struct ListProducersCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "list-producers",
        abstract: "List the producers of the other members of a room.",
        discussion: """
            Joins the edge server as a consumer (createRoom, join, getRouterRtpCapabilities, \
            getProducers), prints one line per remote producer and leaves. Own producers are skipped.
            """)

    @OptionGroup public var server: ServerOptions

    @Flag(help: "Print one JSON object per producer per line (member_no, kind, producer_id).")
    public var json = false

    @Option(help: ArgumentHelp("After the first answer, keep collecting announcements for this many seconds.", valueName: "seconds"))
    public var wait: Double = 0

    public init() {}

    public mutating func validate() throws {
        guard wait >= 0, wait <= 3600 else { throw ValidationError("--wait must be between 0 and 3600 seconds") }
    }

    public func run() async throws {
        let logger = LoggingSetup.bootstrap(level: server.resolvedLogLevel())
        let settings = try server.resolve()
        let session = RoomSession(configuration: settings.session(.edge), logger: logger)
        do {
            try await session.connect()
            _ = try await RoomEntrance.enter(session, roomId: settings.room, memberNo: settings.member,
                                             joinType: settings.edgeJoinType, logger: logger)
            let producers = try await ProducerListing.collect(
                session, ownMember: settings.member, timeout: settings.requestTimeout, settle: .milliseconds(Int(wait * 1000)))
            let lines = producers.map { json ? $0.jsonLine : $0.tableLine }
            FileHandle.standardOutput.write(Data(lines.map { $0 + "\n" }.joined().utf8))
            try? await session.exitRoom()
            await session.close()
        } catch {
            await session.close()
            throw error
        }
    }
}

/// Asks for the producer list and waits for the answer (a `newProducers` event), then keeps
/// listening for `settle` more for producers announced right after.
enum ProducerListing {
    static func collect(_ session: RoomSession, ownMember: String, timeout: Duration, settle: Duration) async throws -> [ProducerInfo] {
        let events = session.events
        try await session.requestProducers()
        guard var all = try await announcements(events, for: timeout, firstOnly: true) else {
            throw RoomError.timeout(step: "edge getProducers", seconds: timeout.seconds)
        }
        if settle > .zero {
            all += try await announcements(events, for: settle, firstOnly: false) ?? []
        }
        var seen = Set<String>()
        return all.filter { $0.memberNo != ownMember && seen.insert($0.producerId).inserted }
    }

    /// Producers announced within `limit`; nil if `firstOnly` and none came.
    private static func announcements(_ events: AsyncStream<RoomEvent>, for limit: Duration,
                                      firstOnly: Bool) async throws -> [ProducerInfo]? {
        try await withThrowingTaskGroup(of: [ProducerInfo]?.self) { group in
            let collected = ProducerBox()
            group.addTask {
                for await event in events {
                    switch event {
                    case .newProducers(let list):
                        if firstOnly { return list }
                        collected.append(list)
                    case .disconnected(let error):
                        throw RoomError.connectionLost(step: "edge getProducers", "\(error)")
                    case .consumerClosed, .consumerPaused, .consumerResumed:
                        continue
                    }
                }
                return firstOnly ? nil : collected.items
            }
            group.addTask {
                try await Task.sleep(for: limit)
                return firstOnly ? nil : collected.items
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
    }
}

/// Collects producers from one task while another may read them at the deadline.
private final class ProducerBox: Sendable {
    private let list = Mutex<[ProducerInfo]>([])
    func append(_ more: [ProducerInfo]) { list.withLock { $0 += more } }
    var items: [ProducerInfo] { list.withLock { $0 } }
}

extension ProducerInfo {
    var jsonLine: String {
        // Fields the server did not send are left out, not null.
        var object: [String: JSONValue] = ["producer_id": .string(producerId)]
        if let memberNo { object["member_no"] = .string(memberNo) }
        if let kind { object["kind"] = .string(kind.rawValue) }
        if let producerSocketId { object["producer_socket_id"] = .string(producerSocketId) }
        return JSONValue.object(object).jsonText
    }

    var tableLine: String {
        let member = memberNo ?? producerSocketId.map { "socket:\($0)" } ?? "?"
        return "member \(member)\t\(kind?.rawValue ?? "unknown")\t\(producerId)"
    }
}

extension Duration {
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
