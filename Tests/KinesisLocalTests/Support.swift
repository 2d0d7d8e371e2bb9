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

enum TestKeys {
    static let example = AWSCredentialIdentity(
        accessKeyID: "AKIDEXAMPLE",
        secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    )
}

/// Fast retries so tests do not wait on backoff.
let fastRetry = KinesisClient.Configuration.Retry(maxAttempts: 3, baseDelay: .milliseconds(1), maxDelay: .milliseconds(5))
/// No retries: the test sees the first answer.
let noRetry = KinesisClient.Configuration.Retry(maxAttempts: 1)

/// Starts a KinesisLocal on port 0, runs `body`, and stops the server (also when `body` throws).
func withLocal<T>(
    _ configuration: KinesisLocal.Configuration = .init(),
    _ body: (KinesisLocal) async throws -> T
) async throws -> T {
    let server = try await KinesisLocal.start(configuration)
    let result: Result<T, any Error>
    do {
        result = .success(try await body(server))
    } catch {
        result = .failure(error)
    }
    try await server.stop()
    return try result.get()
}

/// A client for `url`, shut down after `body`.
func withClient<T>(
    url: String,
    credentials: any CredentialProvider = StaticCredentialProvider(TestKeys.example),
    retry: KinesisClient.Configuration.Retry = fastRetry,
    http: KinesisClient.Configuration.HTTP = .init(connectTimeout: .seconds(2), requestTimeout: .seconds(10)),
    configure: (inout KinesisClient.Configuration) -> Void = { _ in },
    _ body: (KinesisClient) async throws -> T
) async throws -> T {
    var configuration = try KinesisClient.Configuration(region: "us-east-1", endpoint: KinesisEndpoint(url: url), http: http, retry: retry)
    configure(&configuration)
    let client = KinesisClient(configuration: configuration, credentialProvider: credentials, logger: Logger(label: "test"))
    let result: Result<T, any Error>
    do {
        result = .success(try await body(client))
    } catch {
        result = .failure(error)
    }
    try await client.shutdown()
    return try result.get()
}

/// A KinesisLocal with `configuration` and a client for it.
func withLocalClient<T>(
    _ configuration: KinesisLocal.Configuration = .init(),
    credentials: any CredentialProvider = StaticCredentialProvider(TestKeys.example),
    retry: KinesisClient.Configuration.Retry = fastRetry,
    _ body: (KinesisLocal, KinesisClient) async throws -> T
) async throws -> T {
    try await withLocal(configuration) { server in
        try await withClient(url: server.endpoint, credentials: credentials, retry: retry) { client in
            try await body(server, client)
        }
    }
}

/// Runs `body` and returns the `KinesisError` it throws; records a failure when it throws something else or nothing.
func kinesisError(
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async -> KinesisError? {
    do {
        try await body()
        Issue.record("expected a KinesisError, but the call succeeded", sourceLocation: sourceLocation)
        return nil
    } catch let error as KinesisError {
        return error
    } catch {
        Issue.record("expected a KinesisError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

func shardID(_ ordinal: Int) -> String {
    let digits = String(ordinal)
    return "shardId-" + String(repeating: "0", count: max(0, 12 - digits.count)) + digits
}

/// The even split of the hash ring into `count` shards (reference §7).
func evenSplit(_ count: Int) -> [Shard.HashKeyRange] {
    let n = UInt128(count)
    let step = UInt128.max / n + (UInt128.max % n == n - 1 ? 1 : 0)
    return (0..<n).map { i in
        let start = i * step
        let end = i == n - 1 ? UInt128.max : (i + 1) * step - 1
        return Shard.HashKeyRange(startingHashKey: HashKey(start), endingHashKey: HashKey(end))
    }
}

/// The index of the range that takes `key` (inclusive ends).
func route(_ key: HashKey, in ranges: [Shard.HashKeyRange]) -> Int? {
    ranges.firstIndex { $0.endingHashKey >= key }
}

/// An explicit hash key in the middle of shard `index` of an even split into `count`.
func hashKeyInside(shard index: Int, of count: Int) -> String {
    let range = evenSplit(count)[index]
    return String(range.startingHashKey.value + (range.endingHashKey.value - range.startingHashKey.value) / 2)
}

/// A deterministic generator for payloads.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Array where Element == UInt8 {
    static func random(count: Int, using generator: inout some RandomNumberGenerator) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }
}

/// Reads one shard from `position` until an empty page or the end of a closed shard; at most `maxReads` calls.
func readShard(
    _ client: KinesisClient,
    stream: StreamIdentifier,
    shardID: String,
    position: ShardIteratorPosition = .trimHorizon,
    limit: Int? = nil,
    maxReads: Int = 50
) async throws -> [GetRecordsResult.Record] {
    var records: [GetRecordsResult.Record] = []
    var iterator: String? = try await client.getShardIterator(stream: stream, shardID: shardID, position: position)
    var reads = 0
    while let current = iterator, reads < maxReads {
        reads += 1
        let page = try await client.getRecords(shardIterator: current, limit: limit)
        records += page.records
        if page.records.isEmpty { break }
        iterator = page.nextShardIterator
    }
    return records
}

// MARK: - Raw HTTP

/// An answer to a raw request, with the Kinesis error members pulled out.
struct RawAnswer {
    var status: Int
    var headers: HTTPHeaders
    var body: String
    var object: [String: Any]?

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
    contentType: String = "application/x-amz-json-1.1"
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
        let signature = SigV4Signer(service: "kinesis", region: "us-east-1").sign(
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

func rawKinesis(_ endpoint: String, operation: String, json: String, credentials: AWSCredentialIdentity? = TestKeys.example) async throws -> RawAnswer {
    try await rawKinesis(endpoint, operation: operation, body: ByteBuffer(string: json), credentials: credentials)
}

/// Executes `request` on the shared HTTP client and reads the whole answer.
func rawHTTP(_ request: HTTPClientRequest) async throws -> RawAnswer {
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
    let bytes = try await response.body.collect(upTo: 64 << 20)
    let text = String(buffer: bytes)
    let object = try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView)) as? [String: Any]
    return RawAnswer(status: Int(response.status.code), headers: response.headers, body: text, object: object)
}

/// Calls the admin endpoint.
func admin(_ server: KinesisLocal, _ method: HTTPMethod, _ path: String, json: String? = nil) async throws -> RawAnswer {
    var request = HTTPClientRequest(url: server.endpoint + path)
    request.method = method
    if let json {
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: json))
    }
    return try await rawHTTP(request)
}

/// Hands out one identity until `invalidate()` is called, then the next one.
final class RotatingCredentialProvider: CredentialProvider {
    let name = "rotating test credentials"
    private let identities: [AWSCredentialIdentity]
    private let index = Mutex(0)

    init(_ identities: [AWSCredentialIdentity]) {
        precondition(!identities.isEmpty)
        self.identities = identities
    }

    func credentials(logger: Logger) async throws -> AWSCredentialIdentity {
        index.withLock { identities[min($0, identities.count - 1)] }
    }

    func invalidate() {
        index.withLock { $0 += 1 }
    }

    var invalidations: Int { index.withLock { $0 } }
}
