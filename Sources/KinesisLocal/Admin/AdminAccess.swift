import Foundation
import NIOHTTP1

/// Who may use `/_admin/`: only a request that carries the server's admin token as `Authorization: Bearer TOKEN`
/// and is addressed (its `Host` header) to a loopback name or to the address the server is bound to.
///
/// The token keeps out anyone who merely reaches the port (the admin endpoint changes faults and hands out every
/// stored record, and it sits in front of the signature check). The `Host` check stops DNS rebinding: a web page
/// whose name an attacker re-points at 127.0.0.1 sends its own name as `Host`.
struct AdminAccess: Sendable {
    /// The bearer token requests must carry.
    let token: String
    /// The configured bind address, accepted as a `Host` name besides the loopback ones (not a wildcard address).
    let boundHost: String

    init(token: String?, boundHost: String) throws {
        let token = token ?? Self.randomToken()
        guard !token.isEmpty, token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw KinesisLocalError(message: "the admin token must be printable ASCII without spaces, and not empty")
        }
        self.token = token
        self.boundHost = boundHost.lowercased()
    }

    /// 32 random bytes from the system's generator, as 64 hex digits.
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// `nil` when the request may use the admin endpoint; otherwise the 403 answer saying why.
    func refusal(_ request: LocalRequest) -> LocalReply? {
        guard let host = request.headers.first(name: "Host") else {
            return AdminAPI.plain("/_admin/ needs a Host header (a loopback name or \(boundHost))", status: .forbidden)
        }
        let name = Self.hostName(host)
        let wildcard = boundHost == "0.0.0.0" || boundHost == "::" || boundHost == "[::]"
        guard KinesisLocal.isLoopback(host: name) || (!wildcard && name == boundHost) else {
            return AdminAPI.plain(
                "/_admin/ refuses Host '\(host.prefix(200))': only loopback names (localhost, 127.0.0.1, [::1]) or the bound address are accepted, against DNS rebinding",
                status: .forbidden
            )
        }
        guard let authorization = request.headers.first(name: "Authorization"), authorization.hasPrefix("Bearer "),
            SignatureVerifier.constantTimeEquals(authorization.dropFirst("Bearer ".count).trimmingCharacters(in: .whitespaces), token)
        else {
            return AdminAPI.plain(
                "/_admin/ needs the admin token: send 'Authorization: Bearer TOKEN' (kinesis-pusher local prints it at start as 'admin token: TOKEN'; choose it with --admin-token)",
                status: .forbidden
            )
        }
        return nil
    }

    /// The name part of a `Host` header: `[::1]:4567` → `::1`, `localhost:4567` → `localhost`, lowercased.
    static func hostName(_ header: String) -> String {
        let text = header.trimmingCharacters(in: .whitespaces).lowercased()
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            return String(text[text.index(after: text.startIndex)..<close])
        }
        let colons = text.filter { $0 == ":" }.count
        guard colons == 1, let colon = text.firstIndex(of: ":") else { return text }
        return String(text[..<colon])
    }
}
