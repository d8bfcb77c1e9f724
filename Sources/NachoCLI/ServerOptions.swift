import ArgumentParser
import Foundation
import Logging
import Signaling
import SocketIO

/// Options every subcommand shares: where the servers are, which room, who we are.
public struct ServerOptions: ParsableArguments {
    @Option(help: ArgumentHelp("JSON configuration file; flags win over its values.", valueName: "file"))
    public var config: String?

    @Option(help: ArgumentHelp("Edge server URL (receive side), e.g. ws://127.0.0.1:3000.", valueName: "url"))
    public var edge: String?

    @Option(help: ArgumentHelp("Origin server URL (send side).", valueName: "url"))
    public var origin: String?

    @Option(help: ArgumentHelp("One URL for both edge and origin.", valueName: "url"))
    public var server: String?

    @Option(help: ArgumentHelp("Room id.", valueName: "id"))
    public var room: String?

    @Option(help: ArgumentHelp("This participant's member number.", valueName: "n"))
    public var member: String?

    @Option(help: ArgumentHelp("Seconds to wait for each server answer (default 10).", valueName: "seconds"))
    public var requestTimeout: Double?

    @Flag(help: "Do not verify the server's TLS certificate (test servers only).")
    public var insecure: Bool = false

    @Option(help: ArgumentHelp("Auth token sent on connect (prefer the config file or NACHO_AUTH_TOKEN: flags show up in ps).", valueName: "token"))
    public var authToken: String?

    @Option(help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error, critical (default warning).", valueName: "level"))
    public var logLevel: String?

    public init() {}

    /// Longest room or member id, in UTF-8 bytes. The member id goes into the RTCP CNAME
    /// (`nacho-<member>-<n>`, an SDES item of at most 255 bytes); real ids are short numbers.
    static let maxIdLength = 128

    /// Longest request timeout, in seconds.
    static let maxRequestTimeout = 3600.0

    public mutating func validate() throws {
        try Self.validateSeconds(requestTimeout, flag: "--request-timeout", max: Self.maxRequestTimeout)
        if let level = logLevel, Logger.Level(rawValue: level) == nil {
            throw ValidationError("--log-level must be one of: \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        for (flag, value) in [("--room", room), ("--member", member)] {
            if let value, value.isEmpty || value.contains(where: { $0.isWhitespace || $0.isNewline }) {
                throw ValidationError("\(flag) must be a non-empty id without spaces")
            }
            if let value, value.utf8.count > Self.maxIdLength {
                throw ValidationError("\(flag) must be at most \(Self.maxIdLength) bytes long")
            }
        }
    }

    /// A number of seconds that becomes a `Duration`: positive and at most `max` (which also
    /// rules out infinity and NaN, and keeps `Int(seconds * 1000)` far from overflowing).
    static func validateSeconds(_ value: Double?, flag: String, max: Double) throws {
        guard let value else { return }
        guard value > 0 && value <= max else {
            throw ValidationError("\(flag) must be more than 0 and at most \(Int(max)) seconds")
        }
    }

    /// Merges file and flags; missing essentials are usage errors.
    /// - Parameter needsMember: false for commands that number their own participants (`bots`).
    public func resolve(needsOrigin: Bool = false, needsMember: Bool = true) throws -> ResolvedSettings {
        let file = try config.map(NachoConfigurationFile.load(path:))
        let edgeText = edge ?? server ?? file?.edge ?? file?.server
        let originText = origin ?? server ?? file?.origin ?? file?.server ?? edgeText
        guard let edgeText else {
            throw NachoFailure(.usage, "no edge server: pass --edge URL or --server URL, or set \"edge\" in the config file")
        }
        let edgeURL = try Self.url(edgeText, flag: "edge")
        let originURL = try Self.url(originText ?? edgeText, flag: "origin")
        guard let room = room ?? file?.room?.value, !room.isEmpty else {
            throw NachoFailure(.usage, "no room: pass --room ID or set \"room\" in the config file")
        }
        guard let member = member ?? file?.member?.value ?? (needsMember ? nil : "0"), !member.isEmpty else {
            throw NachoFailure(.usage, "no member number: pass --member N or set \"member\" in the config file")
        }
        for (name, value) in [("room", room), ("member", member)] where value.utf8.count > Self.maxIdLength {
            throw NachoFailure(.usage, "\(name) must be at most \(Self.maxIdLength) bytes long")
        }
        let names: ProtocolNames
        do {
            names = try ProtocolNames(events: file?.events ?? [:], fields: file?.fields ?? [:])
        } catch let error as RoomError {
            throw NachoFailure(error)
        }
        var auth = file?.auth
        if let token = authToken ?? ProcessInfo.processInfo.environment["NACHO_AUTH_TOKEN"] {
            auth = ["token": .string(token)]
        }
        let timeout = requestTimeout ?? file?.requestTimeout ?? 10
        guard timeout > 0 && timeout <= Self.maxRequestTimeout else {
            throw NachoFailure(.usage, "requestTimeout must be more than 0 and at most \(Int(Self.maxRequestTimeout)) seconds")
        }
        if let consent = file?.iceConsentTimeout, !(consent >= 2 && consent <= 300) {
            throw NachoFailure(.usage, "iceConsentTimeout must be between 2 and 300 seconds")
        }
        if let attempts = file?.reconnectAttempts, !(0...1000).contains(attempts) {
            throw NachoFailure(.usage, "reconnectAttempts must be between 0 and 1000")
        }
        try file?.audio?.validate(section: "audio", bitrates: 500...512_000)
        try file?.video?.validate(section: "video", bitrates: 10_000...1_000_000_000)
        return ResolvedSettings(
            edgeURL: edgeURL, originURL: originURL, room: room, member: member,
            edgeJoinType: file?.joinTypes?.edge ?? "consumer",
            originJoinType: file?.joinTypes?.origin ?? "producer",
            auth: auth, requestTimeout: .milliseconds(Int(timeout * 1000)),
            verifyTLS: insecure ? false : (file?.tlsVerify ?? true),
            names: names, numericIds: file?.numericIds ?? false, forceTcp: file?.forceTcp ?? false,
            iceConsentTimeout: .milliseconds(Int((file?.iceConsentTimeout ?? 30) * 1000)),
            reconnectAttempts: file?.reconnectAttempts ?? 10,
            audio: file?.audio ?? .init(), video: file?.video ?? .init(), bots: file?.bots ?? .init())
    }

    /// The log level from the flag, else the config file, else `warning`.
    public func resolvedLogLevel() -> Logger.Level {
        if let logLevel, let level = Logger.Level(rawValue: logLevel) { return level }
        if let path = config, let file = try? NachoConfigurationFile.load(path: path),
           let text = file.logLevel, let level = Logger.Level(rawValue: text) { return level }
        return .warning
    }

    static func url(_ text: String, flag: String) throws -> URL {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(),
              ["ws", "wss", "http", "https"].contains(scheme), url.host?.isEmpty == false else {
            throw NachoFailure(.usage, "\(flag) URL \(redacted(text).debugDescription) is not a ws://, wss://, http:// or https:// URL with a host")
        }
        return url
    }

    /// A URL as typed, fit for an error message: without query, fragment or credentials, which
    /// may carry tokens (as the logs show it, `SocketIOClient.redacted`).
    static func redacted(_ text: String) -> String {
        if let url = URL(string: text), url.scheme != nil { return SocketIOClient.redacted(url) }
        var visible = String(text.prefix { $0 != "?" && $0 != "#" })
        if let authority = visible.range(of: "://"), let at = visible[authority.upperBound...].lastIndex(of: "@") {
            visible.removeSubrange(authority.upperBound...at)
        }
        return visible
    }
}
