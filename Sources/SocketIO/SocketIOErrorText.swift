import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOWebSocket
import WebSocketKit

/// Errors of the link and of connecting, in the words a user acts on; URLs without the parts
/// that may carry tokens.
extension SocketIOClient {
    /// A URL fit for logs and error messages: query strings and fragments of deployments
    /// sometimes carry tokens, so only scheme, host, port and path are shown.
    public static func redacted(_ url: URL) -> String {
        var parts = URLComponents(url: url, resolvingAgainstBaseURL: false)
        parts?.query = nil
        parts?.fragment = nil
        parts?.user = nil
        parts?.password = nil
        return parts?.string ?? "(url)"
    }

    /// What broke an upgraded link, in words: a limit the server exceeded is a protocol error.
    static func describe(linkError error: any Error) -> SocketIOError {
        let limits = WebSocketConnector.Limits.socketIO
        switch error {
        case NIOWebSocketError.invalidFrameLength:
            return .malformedPacket("WebSocket frame larger than \(limits.maxFrameSize >> 20) MiB")
        case NIOWebSocketFrameAggregator.Error.accumulatedFrameSizeIsTooLarge:
            return .malformedPacket("WebSocket message larger than \(limits.maxMessageSize >> 20) MiB")
        case NIOWebSocketFrameAggregator.Error.tooManyFragments:
            return .malformedPacket("WebSocket message in more than \(limits.maxFragments) fragments")
        case let error as NIOWebSocketError:
            return .malformedPacket("WebSocket protocol error (\(error))")
        case let error as NIOWebSocketFrameAggregator.Error:
            return .malformedPacket("WebSocket protocol error (\(error))")
        default:
            return .disconnected(describe(error))
        }
    }

    static func describe(connectError error: any Error, url: URL) -> String {
        let target = "\(url.host ?? "?"):\(url.port.map(String.init) ?? (url.scheme == "wss" ? "443" : "80"))"
        switch error {
        case let error as NIOConnectionError:
            if let first = error.connectionErrors.first { return "\(target): \(describe(first.error))" }
            return "\(target): \(error.dnsAError.map(describe) ?? error.dnsAAAAError.map(describe) ?? "connection failed")"
        case let error as WebSocketUpgradeError:
            return "\(target): \(error)"
        case let error as NIOSSLError:
            if "\(error)".contains("CERTIFICATE_VERIFY_FAILED") {
                return "\(target): TLS certificate verification failed (untrusted or self-signed certificate, or a name mismatch); --insecure skips it, for test servers only"
            }
            // BoringSSL's text carries build paths: keep the first reason only.
            let reason = "\(error)".split(separator: ":").dropFirst(4).first.map(String.init) ?? "handshake failed"
            return "\(target): TLS failed (\(reason))"
        case let error as BoringSSLError:
            return "\(target): TLS verification failed (\(error)); use --insecure only for test servers"
        default:
            return "\(target): \(describe(error))"
        }
    }

    private static func describe(_ error: any Error) -> String {
        if let io = error as? IOError { return Self.strerror(io.errnoCode) }
        if let channel = error as? ChannelError, case .connectTimeout = channel { return "connect timed out" }
        return "\(error)"
    }

    private static func strerror(_ code: CInt) -> String {
        String(cString: Foundation.strerror(code)).lowercased()
    }
}
