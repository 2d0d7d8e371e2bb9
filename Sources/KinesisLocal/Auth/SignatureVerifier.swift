import Backoff
import AWSSigning
import Foundation
import NIOCore
import NIOHTTP1

/// Checks the SigV4 `Authorization` header of a request the way Kinesis does.
///
/// In accept-any mode only the header's shape is checked (so clients without real credentials work); in strict
/// mode the signature is recomputed from the received headers and body with the configured secret.
struct SignatureVerifier: Sendable {
    let keys: [String: KinesisLocal.Configuration.Authentication.AccessKey]
    let allowedClockSkew: TimeInterval
    let keyCache = SigningKeyCache()

    init(_ authentication: KinesisLocal.Configuration.Authentication) {
        keys = Dictionary(authentication.strictKeys.map { ($0.accessKeyID, $0) }, uniquingKeysWith: { _, last in last })
        allowedClockSkew = authentication.allowedClockSkew.inSeconds
    }

    var isStrict: Bool { !keys.isEmpty }

    struct ParsedAuthorization {
        var accessKeyID: String
        var dateStamp: String
        var region: String
        var service: String
        var signedHeaders: [String]
        var signature: String
    }

    static func parse(_ header: String) throws(AWSErrorReply) -> ParsedAuthorization {
        let incomplete = AWSErrorReply(
            status: 400,
            type: "IncompleteSignatureException",
            message: "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters (AWS4-HMAC-SHA256). Authorization=\(header.prefix(200))"
        )
        guard header.hasPrefix("AWS4-HMAC-SHA256 ") else { throw incomplete }
        var parts: [String: String] = [:]
        for item in header.dropFirst("AWS4-HMAC-SHA256 ".count).split(separator: ",") {
            let pair = item.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if pair.count == 2 { parts[String(pair[0])] = String(pair[1]) }
        }
        guard let credential = parts["Credential"], let signedHeaders = parts["SignedHeaders"],
            let signature = parts["Signature"]
        else { throw incomplete }
        let scope = credential.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard scope.count == 5, scope[4] == "aws4_request", !scope[0].isEmpty else { throw incomplete }
        return ParsedAuthorization(
            accessKeyID: scope[0],
            dateStamp: scope[1],
            region: scope[2],
            service: scope[3],
            signedHeaders: signedHeaders.split(separator: ";").map(String.init),
            signature: signature
        )
    }

    /// Returns who signed the request and for which region, or the error Kinesis would answer.
    func verify(headers: HTTPHeaders, body: ByteBuffer, now: Date) throws(AWSErrorReply) -> ParsedAuthorization {
        guard let header = headers.first(name: "Authorization") else {
            throw AWSErrorReply(status: 400, type: "MissingAuthenticationTokenException", message: "Missing Authentication Token")
        }
        let parsed = try Self.parse(header)
        guard isStrict else { return parsed }

        guard let key = keys[parsed.accessKeyID] else {
            throw AWSErrorReply(status: 400, type: "UnrecognizedClientException", message: "The security token included in the request is invalid.")
        }
        let token = headers.first(name: "X-Amz-Security-Token")
        if key.sessionToken != token {
            throw AWSErrorReply(status: 400, type: "UnrecognizedClientException", message: "The security token included in the request is invalid.")
        }
        guard let amzDate = headers.first(name: "X-Amz-Date"), let signedAt = Self.parseAmzDate(amzDate),
            amzDate.hasPrefix(parsed.dateStamp)
        else {
            throw AWSErrorReply(status: 400, type: "IncompleteSignatureException", message: "X-Amz-Date is missing or does not match the credential scope date.")
        }
        if abs(signedAt.timeIntervalSince(now)) > allowedClockSkew {
            throw AWSErrorReply(
                status: 400,
                type: "InvalidSignatureException",
                message: "Signature expired: \(amzDate) is now earlier than the allowed window around the server time (± \(Int(allowedClockSkew / 60)) min.)"
            )
        }
        var signedHeaderValues: [(name: String, value: String)] = []
        for name in parsed.signedHeaders where name != "x-amz-date" && name != "x-amz-security-token" {
            let values = headers[name]
            guard !values.isEmpty else {
                throw AWSErrorReply(status: 400, type: "IncompleteSignatureException", message: "Signed header \(name) is missing from the request.")
            }
            signedHeaderValues.append((name, values.joined(separator: ",")))
        }
        let signedToken = parsed.signedHeaders.contains("x-amz-security-token") ? token : nil
        let expected = SigV4Signer(service: parsed.service, region: parsed.region, keyCache: keyCache).sign(
            method: "POST",
            headers: signedHeaderValues,
            signsEveryHeader: true,
            payloadHash: body.withUnsafeReadableBytes { SigV4Signer.payloadHash($0) },
            credentials: AWSCredentialIdentity(accessKeyID: key.accessKeyID, secretAccessKey: key.secretAccessKey, sessionToken: signedToken),
            date: signedAt
        )
        guard Self.constantTimeEquals(expected.signature, parsed.signature),
            parsed.signedHeaders.contains("x-amz-date") || parsed.signedHeaders.contains("date")
        else {
            throw AWSErrorReply(
                status: 400,
                type: "InvalidSignatureException",
                message: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
            )
        }
        return parsed
    }

    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for i in x.indices { difference |= x[i] ^ y[i] }
        return difference == 0
    }

    /// `20150830T123600Z` → a date, or `nil`.
    static func parseAmzDate(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count == 16, bytes[8] == UInt8(ascii: "T"), bytes[15] == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in bytes[range] {
                guard (0x30...0x39).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(4..<6), let day = number(6..<8), let hour = number(9..<11),
            let minute = number(11..<13), let second = number(13..<15), (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        // Days from civil (Howard Hinnant).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return Date(timeIntervalSince1970: TimeInterval(days * 86_400 + hour * 3600 + minute * 60 + second))
    }
}
