import AsyncHTTPClient
import AWSCredentials
import AWSSigning
import Foundation
import KinesisAPI
import KinesisLocal
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import Testing
import TestSupport

/// No retries: the test sees the first answer.
let noRetry = KinesisClient.Configuration.Retry(maxAttempts: 1)

/// A client for `url` with this target's defaults (fast retries, short timeouts), shut down after `body`.
func withClient<T>(
    url: String,
    credentials: any CredentialProvider = StaticCredentialProvider(TestKeys.example),
    retry: KinesisClient.Configuration.Retry = fastRetry,
    configure: (inout KinesisClient.Configuration) -> Void = { _ in },
    _ body: (KinesisClient) async throws -> T
) async throws -> T {
    try await withKinesisClient(
        url: url,
        credentials: credentials,
        http: .init(connectTimeout: .seconds(2), requestTimeout: .seconds(10)),
        retry: retry,
        configure: configure,
        body
    )
}

/// A KinesisLocal with `configuration` and a client for it.
func withLocalClient<T>(
    _ configuration: KinesisLocal.Configuration = .init(),
    credentials: any CredentialProvider = StaticCredentialProvider(TestKeys.example),
    retry: KinesisClient.Configuration.Retry = fastRetry,
    _ body: (KinesisLocal, KinesisClient) async throws -> T
) async throws -> T {
    try await withServer(configuration) { server in
        try await withClient(url: server.endpoint, credentials: credentials, retry: retry) { client in
            try await body(server, client)
        }
    }
}

/// An explicit hash key in the middle of shard `index` of an even split into `count`.
func hashKeyInside(shard index: Int, of count: Int) -> String {
    let range = evenSplit(count)[index]
    return String(range.startingHashKey.value + (range.endingHashKey.value - range.startingHashKey.value) / 2)
}

// MARK: - Raw HTTP

/// An answer to a raw request, with the Kinesis error members pulled out.
struct RawAnswer {
    var status: Int
    var headers: HTTPHeaders
    var body: String
    var object: [String: Any]?
    /// The body as received (a CBOR answer is not text).
    var bytes: [UInt8] = []

    /// `__type`, as botocore reads it.
    var errorType: String? { object?["__type"] as? String }
    var message: String? { (object?["message"] as? String) ?? (object?["Message"] as? String) }
}

/// Sends one Kinesis operation as raw bytes, signed with SigV4 (so strict mode accepts it) unless `credentials` is nil.
func rawKinesis(
    _ endpoint: String,
    operation: String,
    body: ByteBuffer,
    credentials: AWSCredentialIdentity? = TestKeys.example,
    signedAt date: Date = Date(),
    contentType: String = "application/x-amz-json-1.1",
    region: String = "us-east-1"
) async throws -> RawAnswer {
    let url = try #require(URL(string: endpoint))
    let host = "\(url.host ?? "127.0.0.1"):\(url.port ?? 80)"
    var headers: [(name: String, value: String)] = [
        ("Host", host),
        ("Content-Type", contentType),
        ("X-Amz-Target", "Kinesis_20131202.\(operation)"),
    ]
    if let credentials {
        let payloadHash = body.withUnsafeReadableBytes { SigV4Signer.payloadHash($0) }
        let signature = SigV4Signer(service: "kinesis", region: region).sign(
            method: "POST",
            headers: headers,
            payloadHash: payloadHash,
            credentials: credentials,
            date: date
        )
        headers += signature.headersToAdd
    }
    var request = HTTPClientRequest(url: endpoint + "/")
    request.method = .POST
    request.headers = HTTPHeaders(headers)
    request.body = .bytes(body)
    return try await rawHTTP(request)
}

func rawKinesis(
    _ endpoint: String,
    operation: String,
    json: String,
    credentials: AWSCredentialIdentity? = TestKeys.example,
    region: String = "us-east-1"
) async throws -> RawAnswer {
    try await rawKinesis(endpoint, operation: operation, body: ByteBuffer(string: json), credentials: credentials, region: region)
}

/// A Kinesis operation whose members are given as a dictionary (encoded as JSON), for the control-plane tests.
func call(
    _ server: KinesisLocal,
    _ operation: String,
    _ members: [String: Any] = [:],
    region: String = "us-east-1"
) async throws -> RawAnswer {
    let data = try JSONSerialization.data(withJSONObject: members, options: [.sortedKeys])
    return try await rawKinesis(server.endpoint, operation: operation, json: String(decoding: data, as: UTF8.self), region: region)
}

/// Executes `request` on the shared HTTP client and reads the whole answer.
func rawHTTP(_ request: HTTPClientRequest) async throws -> RawAnswer {
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
    let bytes = try await response.body.collect(upTo: 64 << 20)
    let text = String(buffer: bytes)
    let object = try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView)) as? [String: Any]
    return RawAnswer(status: Int(response.status.code), headers: response.headers, body: text, object: object, bytes: Array(bytes.readableBytesView))
}

/// Calls the admin endpoint with the server's admin token (`token` replaces it; `nil` sends none), and `host` as
/// the `Host` header when given.
func admin(
    _ server: KinesisLocal,
    _ method: HTTPMethod,
    _ path: String,
    json: String? = nil,
    token: String?? = .none,
    host: String? = nil
) async throws -> RawAnswer {
    var request = HTTPClientRequest(url: server.endpoint + path)
    request.method = method
    if let token = token ?? server.adminToken {
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
    }
    if let host { request.headers.replaceOrAdd(name: "Host", value: host) }
    if let json {
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: json))
    }
    return try await rawHTTP(request)
}
