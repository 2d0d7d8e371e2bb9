import AWSCredentials
import AWSSigning
import Foundation
import KinesisAPI
import Logging
import TestSupport
import Testing

/// A `KinesisClient` pointed at a `LoopbackHTTPServer` that plays Kinesis.
enum FakeKinesis {
    typealias Request = LoopbackHTTPServer.Request
    typealias Response = LoopbackHTTPServer.Response

    /// Starts a server with `handler`, builds a client for it, runs `body`, and tears both down.
    static func run<T>(
        credentials: any CredentialProvider = StaticCredentialProvider(TestKeys.example),
        http: KinesisClient.Configuration.HTTP = .init(connectTimeout: .seconds(2), requestTimeout: .seconds(5)),
        retry: KinesisClient.Configuration.Retry = fastRetry,
        listing: KinesisClient.Configuration.Listing = .init(),
        handler: @escaping LoopbackHTTPServer.Handler,
        _ body: (LoopbackHTTPServer, KinesisClient) async throws -> T
    ) async throws -> T {
        let server = try await LoopbackHTTPServer.start(handler: handler)
        let client: KinesisClient
        do {
            client = KinesisClient(
                configuration: try .init(region: "us-east-1", endpoint: KinesisEndpoint(url: server.url), http: http, retry: retry, listing: listing),
                credentialProvider: credentials,
                logger: Logger(label: "test")
            )
        } catch {
            try await server.stop()
            throw error
        }
        let result: Result<T, any Error>
        do {
            result = .success(try await body(server, client))
        } catch {
            result = .failure(error)
        }
        try await client.shutdown()
        try await server.stop()
        return try result.get()
    }

    /// A 200 JSON 1.1 answer.
    static func ok(_ json: String = "{}") -> Response {
        Response(
            status: 200,
            headers: [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", "req-\(UUID().uuidString)")],
            body: json
        )
    }

    /// A Kinesis-shaped JSON error.
    static func error(_ status: Int = 400, type: String, message: String = "", requestID: String = "req-error") -> Response {
        Response(
            status: status,
            headers: [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", requestID)],
            body: #"{"__type":"\#(type)","message":"\#(message)"}"#
        )
    }

    /// The HTML a load balancer sends for a bad gateway.
    static let badGateway = Response(
        status: 502,
        headers: [("Content-Type", "text/html")],
        body: "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
    )

    /// The operation a request is for, from `X-Amz-Target`.
    static func operation(_ request: Request) -> String? {
        request.header("X-Amz-Target").flatMap { $0.split(separator: ".", maxSplits: 1).last.map(String.init) }
    }

    /// Re-computes the SigV4 signature of a recorded request and checks it equals the one sent.
    static func verifySignature(
        _ request: Request,
        credentials: AWSCredentialIdentity,
        region: String = "us-east-1",
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let authorization = try #require(request.header("Authorization"), sourceLocation: sourceLocation)
        let signedHeaders = try #require(
            authorization.components(separatedBy: ", ").first { $0.hasPrefix("SignedHeaders=") }?.dropFirst("SignedHeaders=".count),
            "no SignedHeaders in \(authorization)",
            sourceLocation: sourceLocation
        )
        let amzDate = try #require(request.header("X-Amz-Date"), sourceLocation: sourceLocation)
        let date = try #require(parseAmzDate(amzDate), "bad X-Amz-Date \(amzDate)", sourceLocation: sourceLocation)
        // The signer adds x-amz-date and x-amz-security-token itself; pass every other signed header as received.
        var headers: [(name: String, value: String)] = []
        for name in signedHeaders.split(separator: ";").map(String.init) where name != "x-amz-date" && name != "x-amz-security-token" {
            let value = try #require(request.header(name), "signed header \(name) was not sent", sourceLocation: sourceLocation)
            headers.append((name, value))
        }
        let signature = SigV4Signer(service: "kinesis", region: region).sign(
            method: request.method,
            headers: headers,
            payloadHash: SigV4Signer.payloadHash(request.body),
            credentials: credentials,
            date: date
        )
        #expect(signature.authorization == authorization, sourceLocation: sourceLocation)
        #expect(request.header("X-Amz-Security-Token") == credentials.sessionToken, sourceLocation: sourceLocation)
    }

    /// `20150830T123600Z` → a `Date`.
    static func parseAmzDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.date(from: text)
    }

    /// Whether `bytes` and `expected` are the same JSON object (key order ignored).
    static func sameJSON(_ bytes: [UInt8], _ expected: String) -> Bool {
        guard let actual = try? JSONSerialization.jsonObject(with: Data(bytes)) as? NSDictionary,
            let wanted = try? JSONSerialization.jsonObject(with: Data(expected.utf8)) as? NSDictionary
        else { return false }
        return actual.isEqual(wanted)
    }

    /// A shard as Kinesis lists it.
    static func shardJSON(_ index: Int, start: String, end: String, closedAt: String? = nil) -> String {
        let ending = closedAt.map { #","EndingSequenceNumber":"\#($0)""# } ?? ""
        return #"{"ShardId":"\#(shardID(index))","HashKeyRange":{"StartingHashKey":"\#(start)","EndingHashKey":"\#(end)"},"SequenceNumberRange":{"StartingSequenceNumber":"4959\#(index)"\#(ending)}}"#
    }
}
