import Crypto
import Foundation

/// Signs HTTP requests with AWS Signature Version 4 (header form), as Kinesis and STS expect.
///
/// The signer is a value: it performs no I/O and keeps no state beyond a shared cache of derived signing keys.
/// Sign every attempt anew, so a retried request carries a fresh `X-Amz-Date` and signature.
public struct SigV4Signer: Sendable {
    /// The service name in the credential scope, for example `kinesis` or `sts`.
    public var service: String
    /// The region in the credential scope, for example `us-east-1`.
    public var region: String
    /// Where derived signing keys are kept; share one cache between signers of the same credentials.
    public var keyCache: SigningKeyCache

    /// Headers botocore never signs: hop-by-hop headers and ones that proxies or the HTTP client may rewrite.
    static let unsignedHeaders: Set<String> = [
        "authorization", "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
        "trailer", "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id", "content-length",
    ]

    /// The SHA-256 of an empty payload, in hex.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// Creates a signer for one service and region.
    public init(service: String, region: String, keyCache: SigningKeyCache = SigningKeyCache()) {
        self.service = service
        self.region = region
        self.keyCache = keyCache
    }

    /// Signs a request and returns the headers to add to it.
    ///
    /// - Parameters:
    ///   - method: The HTTP method, for example `POST`.
    ///   - path: The request path, not yet URI-encoded; Kinesis always uses `/`.
    ///   - query: The query parameters, not yet encoded.
    ///   - headers: Every header the request will carry, `host` included exactly as it is sent (with `:port` for a
    ///     non-default port). Hop-by-hop headers and `user-agent` are left out of the signature.
    ///   - signsEveryHeader: Sign all of `headers`, hop-by-hop ones included: for verifying a received request
    ///     against the exact list its `SignedHeaders` names.
    ///   - payloadHash: The lowercase hex SHA-256 of the body; see ``payloadHash(_:)``.
    ///   - credentials: The identity to sign with; its session token is added and signed.
    ///   - date: The signing time.
    public func sign(
        method: String,
        path: String = "/",
        query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)],
        signsEveryHeader: Bool = false,
        payloadHash: String,
        credentials: AWSCredentialIdentity,
        date: Date
    ) -> SigV4Signature {
        let signingDate = SigningDate(date)
        var allHeaders = headers
        allHeaders.append(("x-amz-date", signingDate.amzDate))
        if let token = credentials.sessionToken {
            allHeaders.append(("x-amz-security-token", token))
        }

        let canonical = Self.canonicalHeaders(allHeaders, signsEveryHeader: signsEveryHeader)
        let canonicalRequest = [
            method.uppercased(),
            Self.canonicalURI(path),
            Self.canonicalQuery(query),
            canonical.block,
            canonical.signedHeaders,
            payloadHash,
        ].joined(separator: "\n")

        let scope = "\(signingDate.dateStamp)/\(region)/\(service)/aws4_request"
        let stringToSign = [
            "AWS4-HMAC-SHA256",
            signingDate.amzDate,
            scope,
            Hex.encode(SHA256.hash(data: Array(canonicalRequest.utf8))),
        ].joined(separator: "\n")

        let key = keyCache.signingKey(
            secretAccessKey: credentials.secretAccessKey,
            dateStamp: signingDate.dateStamp,
            region: region,
            service: service
        )
        let signature = Hex.encode(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
        let authorization =
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), "
            + "SignedHeaders=\(canonical.signedHeaders), Signature=\(signature)"

        var added: [(name: String, value: String)] = [("X-Amz-Date", signingDate.amzDate)]
        if let token = credentials.sessionToken {
            added.append(("X-Amz-Security-Token", token))
        }
        added.append(("Authorization", authorization))
        return SigV4Signature(
            headersToAdd: added,
            canonicalRequest: canonicalRequest,
            stringToSign: stringToSign,
            signedHeaders: canonical.signedHeaders,
            signature: signature
        )
    }

    /// The lowercase hex SHA-256 of a body, as the last line of the canonical request wants it.
    public static func payloadHash(_ body: some DataProtocol) -> String {
        Hex.encode(SHA256.hash(data: body))
    }

    /// The hex signing key for a secret, day (`yyyyMMdd`), region and service; for checking against test vectors.
    public static func signingKeyHex(secretAccessKey: String, dateStamp: String, region: String, service: String) -> String {
        SigningKeyCache.derive(secretAccessKey: secretAccessKey, dateStamp: dateStamp[...], region: region, service: service)
            .withUnsafeBytes { Hex.encode($0) }
    }

    static func canonicalHeaders(
        _ headers: [(name: String, value: String)],
        signsEveryHeader: Bool
    ) -> (block: String, signedHeaders: String) {
        var merged: [String: [String]] = [:]
        for (name, value) in headers {
            let lowered = name.lowercased()
            if !signsEveryHeader && unsignedHeaders.contains(lowered) { continue }
            merged[lowered, default: []].append(normalizeHeaderValue(value))
        }
        let names = merged.keys.sorted()
        var block = ""
        for name in names {
            block += name + ":" + merged[name]!.joined(separator: ",") + "\n"
        }
        return (block, names.joined(separator: ";"))
    }

    /// Trims a header value and folds inner runs of spaces into one, as the canonical form requires.
    static func normalizeHeaderValue(_ value: String) -> String {
        var result = ""
        result.reserveCapacity(value.utf8.count)
        var pendingSpace = false
        for character in value.trimmingCharacters(in: .whitespaces) {
            if character == " " || character == "\t" {
                pendingSpace = true
                continue
            }
            if pendingSpace {
                result.append(" ")
                pendingSpace = false
            }
            result.append(character)
        }
        return result
    }

    static func canonicalURI(_ path: String) -> String {
        if path.isEmpty { return "/" }
        return path.split(separator: "/", omittingEmptySubsequences: false)
            .map { uriEncode(String($0)) }
            .joined(separator: "/")
    }

    static func canonicalQuery(_ query: [(name: String, value: String)]) -> String {
        let encoded: [(name: String, value: String)] = query.map { (uriEncode($0.name), uriEncode($0.value)) }
        let sorted = encoded.sorted { lhs, rhs in
            lhs.name == rhs.name ? lhs.value < rhs.value : lhs.name < rhs.name
        }
        return sorted.map { $0.name + "=" + $0.value }.joined(separator: "&")
    }

    /// RFC 3986 encoding: unreserved characters stay, every other byte becomes `%XX` (uppercase).
    public static func uriEncode(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        let hexDigits = Array("0123456789ABCDEF".utf8)
        for byte in text.utf8 {
            if isUnreserved(byte) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        if byte >= 0x41 && byte <= 0x5A { return true }  // A-Z
        if byte >= 0x61 && byte <= 0x7A { return true }  // a-z
        if byte >= 0x30 && byte <= 0x39 { return true }  // 0-9
        return byte == 0x2D || byte == 0x2E || byte == 0x5F || byte == 0x7E  // - . _ ~
    }
}
