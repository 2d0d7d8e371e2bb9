import AWSSigning
import AsyncHTTPClient
import Foundation
import KinesisLocal
import NIOCore
import NIOHTTP1
import Testing
import TestSupport

/// Every way strict mode refuses a request whose signature is incomplete, sent as raw HTTP so each header can be
/// left out or bent on purpose: the status, `__type` and message of each path.
@Suite("KinesisLocal strict mode: incomplete signatures")
struct IncompleteSignatureTests {
    static let key = KinesisLocal.Configuration.Authentication.AccessKey(
        accessKeyID: "AKIAINCOMPLETE000001",
        secretAccessKey: "incomplete/secret+KEY/0123456789abcdef"
    )
    static let configuration = KinesisLocal.Configuration(
        streams: [.init(name: "s", shardCount: 1)],
        authentication: .strict([key])
    )
    static let body = #"{"StreamName":"s"}"#
    static let identity = AWSCredentialIdentity(accessKeyID: key.accessKeyID, secretAccessKey: key.secretAccessKey)
    static let incompleteAuthorization = "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters (AWS4-HMAC-SHA256). Authorization="
    static let dateMessage = "X-Amz-Date is missing or does not match the credential scope date."

    /// The headers of a correctly signed ListShards (Host, Content-Type, X-Amz-Target, `extra`, X-Amz-Date and
    /// Authorization), signed at `date`.
    static func signedHeaders(_ endpoint: String, extra: [(name: String, value: String)] = [], date: Date = Date()) throws -> [(name: String, value: String)] {
        let url = try #require(URL(string: endpoint))
        let headers: [(name: String, value: String)] = [
            ("Host", "\(url.host ?? "127.0.0.1"):\(url.port ?? 80)"),
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", "Kinesis_20131202.ListShards"),
        ] + extra
        let signature = SigV4Signer(service: "kinesis", region: "us-east-1").sign(
            method: "POST",
            headers: headers,
            payloadHash: SigV4Signer.payloadHash(Array(body.utf8)),
            credentials: identity,
            date: date
        )
        return headers + signature.headersToAdd
    }

    /// Sends ListShards with exactly `headers`.
    static func send(_ endpoint: String, _ headers: [(name: String, value: String)]) async throws -> RawAnswer {
        var request = HTTPClientRequest(url: endpoint + "/")
        request.method = .POST
        request.headers = HTTPHeaders(headers.map { ($0.name, $0.value) })
        request.body = .bytes(ByteBuffer(string: body))
        return try await rawHTTP(request)
    }

    static func replacing(_ name: String, in headers: [(name: String, value: String)], with value: String?) -> [(name: String, value: String)] {
        let others = headers.filter { $0.name.lowercased() != name.lowercased() }
        return value.map { others + [(name, $0)] } ?? others
    }

    static func authorization(of headers: [(name: String, value: String)]) throws -> String {
        try #require(headers.first { $0.name == "Authorization" }?.value)
    }

    @Test("the untouched request passes, so each refusal below is the bent header's doing")
    func control() async throws {
        try await withServer(Self.configuration) { server in
            let answer = try await Self.send(server.endpoint, try Self.signedHeaders(server.endpoint))
            #expect(answer.status == 200, "\(answer.body)")
            #expect((answer.object?["Shards"] as? [Any])?.count == 1)
        }
    }

    @Test("no Authorization header: 400 MissingAuthenticationTokenException")
    func missingAuthorization() async throws {
        try await withServer(Self.configuration) { server in
            let headers = Self.replacing("Authorization", in: try Self.signedHeaders(server.endpoint), with: nil)
            let answer = try await Self.send(server.endpoint, headers)
            #expect(answer.status == 400)
            #expect(answer.errorType == "MissingAuthenticationTokenException")
            #expect(answer.message == "Missing Authentication Token")
            #expect(answer.headers.first(name: "X-Amzn-ErrorType") == "MissingAuthenticationTokenException")
        }
    }

    @Test("a malformed Authorization header: 400 IncompleteSignatureException that quotes it", arguments: [
        "not SigV4 at all", "AWS4-HMAC-SHA256", "no Signature", "no SignedHeaders", "no Credential",
        "a four-part credential scope", "a scope not ending in aws4_request", "an empty access key id",
    ])
    func malformedAuthorization(_ bend: String) async throws {
        try await withServer(Self.configuration) { server in
            let headers = try Self.signedHeaders(server.endpoint)
            let good = try Self.authorization(of: headers)
            let parts = good.dropFirst("AWS4-HMAC-SHA256 ".count).components(separatedBy: ", ")
            let credential = try #require(parts.first { $0.hasPrefix("Credential=") })
            let signedHeaders = try #require(parts.first { $0.hasPrefix("SignedHeaders=") })
            let signature = try #require(parts.first { $0.hasPrefix("Signature=") })
            let scope = credential.dropFirst("Credential=".count).split(separator: "/", omittingEmptySubsequences: false)
            #expect(scope.count == 5)
            let bent: String
            switch bend {
            case "not SigV4 at all": bent = "Bearer abc.def"
            case "AWS4-HMAC-SHA256": bent = "AWS4-HMAC-SHA256"
            case "no Signature": bent = "AWS4-HMAC-SHA256 \(credential), \(signedHeaders)"
            case "no SignedHeaders": bent = "AWS4-HMAC-SHA256 \(credential), \(signature)"
            case "no Credential": bent = "AWS4-HMAC-SHA256 \(signedHeaders), \(signature)"
            case "a four-part credential scope": bent = "AWS4-HMAC-SHA256 Credential=\(scope[0...3].joined(separator: "/")), \(signedHeaders), \(signature)"
            case "a scope not ending in aws4_request":
                bent = "AWS4-HMAC-SHA256 Credential=\(scope[0...3].joined(separator: "/"))/aws3_request, \(signedHeaders), \(signature)"
            case "an empty access key id": bent = "AWS4-HMAC-SHA256 Credential=/\(scope[1...4].joined(separator: "/")), \(signedHeaders), \(signature)"
            default: Issue.record("unknown case \(bend)"); return
            }
            let answer = try await Self.send(server.endpoint, Self.replacing("Authorization", in: headers, with: bent))
            #expect(answer.status == 400, "\(bend): \(answer.body)")
            #expect(answer.errorType == "IncompleteSignatureException", "\(bend): \(answer.body)")
            // The header is quoted, cut at 200 characters.
            #expect(answer.message == Self.incompleteAuthorization + String(bent.prefix(200)), "\(bend)")
        }
    }

    @Test("X-Amz-Date missing, unparseable, or of another day than the credential scope: 400 IncompleteSignatureException")
    func badDate() async throws {
        try await withServer(Self.configuration) { server in
            let headers = try Self.signedHeaders(server.endpoint)
            let amzDate = try #require(headers.first { $0.name == "X-Amz-Date" }?.value)
            let yesterday = try #require(
                try Self.signedHeaders(server.endpoint, date: Date().addingTimeInterval(-86_400)).first { $0.name == "X-Amz-Date" }?.value
            )
            #expect(!yesterday.hasPrefix(String(amzDate.prefix(8))))
            for (what, value) in [
                ("missing", nil), ("unparseable", "yesterday"), ("without its Z", String(amzDate.dropLast())),
                ("a month 13", String(amzDate.prefix(4)) + "13" + String(amzDate.dropFirst(6))), ("another day", yesterday),
            ] as [(String, String?)] {
                let answer = try await Self.send(server.endpoint, Self.replacing("X-Amz-Date", in: headers, with: value))
                #expect(answer.status == 400, "\(what): \(answer.body)")
                #expect(answer.errorType == "IncompleteSignatureException", "\(what): \(answer.body)")
                #expect(answer.message == Self.dateMessage, "\(what)")
            }
        }
    }

    @Test("a header named in SignedHeaders but absent from the request: 400 IncompleteSignatureException naming it")
    func signedHeaderMissing() async throws {
        try await withServer(Self.configuration) { server in
            let headers = try Self.signedHeaders(server.endpoint, extra: [("X-Custom-Signed", "1")])
            #expect(try Self.authorization(of: headers).contains("x-custom-signed"))
            // Sent as signed, it passes: the refusal below is about the header's absence.
            let whole = try await Self.send(server.endpoint, headers)
            #expect(whole.status == 200, "\(whole.body)")

            let answer = try await Self.send(server.endpoint, Self.replacing("X-Custom-Signed", in: headers, with: nil))
            #expect(answer.status == 400, "\(answer.body)")
            #expect(answer.errorType == "IncompleteSignatureException")
            #expect(answer.message == "Signed header x-custom-signed is missing from the request.")

            // The same for a signed header the SDKs always send.
            let noTarget = try await Self.send(server.endpoint, Self.replacing("Content-Type", in: headers, with: nil))
            #expect(noTarget.errorType == "IncompleteSignatureException", "\(noTarget.body)")
            #expect(noTarget.message == "Signed header content-type is missing from the request.")
        }
    }
}
