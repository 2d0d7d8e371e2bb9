import AWSCredentials
import Foundation
import KinesisAPI
import Logging
import NIOCore
import Synchronization
import Testing
import TestSupport

/// An endpoint that is broken or hostile cannot crash the client, hang it, or make it hold what it sends.
@Suite("KinesisClient against a hostile endpoint")
struct HostileEndpointTests {
    static let megabyte = 1 << 20

    /// The cap's marker and that at most `AnswerText`'s 1 KiB of `text` is kept.
    static func expectCapped(_ text: String?, originalBytes: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let text else {
            Issue.record("no text", sourceLocation: sourceLocation)
            return
        }
        #expect(text.utf8.count <= 1024 + 64, "\(text.utf8.count) bytes kept", sourceLocation: sourceLocation)
        #expect(text.hasSuffix("… (truncated from \(originalBytes) bytes)"), "\(text.suffix(60))", sourceLocation: sourceLocation)
    }

    @Test("a 1 MB ErrorCode and ErrorMessage in every record are cut to 1 KiB, on the fast reader's path and on JSONDecoder's")
    func cappedRecordErrors() async throws {
        let huge = String(repeating: "m", count: Self.megabyte)
        for escaped in [false, true] {
            // An escape in the message makes the fast reader hand the answer to JSONDecoder.
            let message = escaped ? "\\n" + huge : huge
            let entry = #"{"ErrorCode":"\#(huge)","ErrorMessage":"\#(message)"}"#
            let records = 10  // 20 MB: under the 32 MiB answer limit
            let answer = #"{"FailedRecordCount":\#(records),"Records":[\#(Array(repeating: entry, count: records).joined(separator: ","))]}"#
            try await FakeKinesis.run(handler: { _ in FakeKinesis.ok(answer) }) { _, client in
                let entries = (0..<records).map { PutRecordsEntry(data: [UInt8($0)], partitionKey: "k\($0)") }
                let result = try await client.putRecords(entries, stream: .name("s"))
                #expect(result.records.count == records)
                for record in result.records {
                    Self.expectCapped(record.errorCode, originalBytes: Self.megabyte)
                    Self.expectCapped(record.errorMessage, originalBytes: escaped ? Self.megabyte + 1 : Self.megabyte)
                    #expect(record.errorCode?.hasPrefix(String(repeating: "m", count: 1024)) == true)
                }
            }
        }
    }

    @Test("an error answer's 1 MB __type, message and request id are cut to 1 KiB")
    func cappedErrorAnswer() async throws {
        let huge = String(repeating: "x", count: Self.megabyte)
        let response = LoopbackHTTPServer.Response(
            status: 400,
            headers: [("Content-Type", "application/x-amz-json-1.1")],
            body: #"{"__type":"\#(huge)","message":"\#(huge)"}"#
        )
        try await FakeKinesis.run(retry: .init(maxAttempts: 1), handler: { _ in response }) { _, client in
            let error = try await #require(throws: KinesisError.self) { try await client.describeStreamSummary(stream: .name("s")) }
            Self.expectCapped(error.code.rawValue, originalBytes: Self.megabyte)
            Self.expectCapped(error.message, originalBytes: Self.megabyte)
        }
    }

    @Test("the cut falls on a character boundary: the kept text is valid UTF-8 of whole characters")
    func cutOnBoundary() async throws {
        // "a" then 2-byte "é"s: byte 1024 is the second byte of an "é", so 1023 bytes are kept.
        let message = "a" + String(repeating: "é", count: 2000)
        let answer = #"{"Records":[{"ErrorCode":"InternalFailure","ErrorMessage":"\#(message)"}],"FailedRecordCount":1}"#
        try await FakeKinesis.run(handler: { _ in FakeKinesis.ok(answer) }) { _, client in
            let result = try await client.putRecords([PutRecordsEntry(data: [1], partitionKey: "k")], stream: .name("s"))
            let kept = try #require(result.records.first?.errorMessage?.components(separatedBy: "… (truncated").first)
            #expect(kept.utf8.count == 1023)
            #expect(kept == "a" + String(repeating: "é", count: 511))
            #expect(result.records.first?.errorCode == "InternalFailure", "short texts are left alone")
        }
    }

    /// A ListShards page with one shard and `next` as its NextToken.
    static func page(_ index: Int, next: String?) -> LoopbackHTTPServer.Response {
        let token = next.map { #","NextToken":"\#($0)""# } ?? ""
        return FakeKinesis.ok(#"{"Shards":[\#(FakeKinesis.shardJSON(index, start: "0", end: "1"))]\#(token)}"#)
    }

    /// How a ListShards endpoint pages without end, and where the client must stop.
    enum EndlessListing: String, CaseIterable, Sendable {
        case freshTokens, repeatedToken, tooManyShards

        var listing: KinesisClient.Configuration.Listing {
            switch self {
            case .freshTokens: .init(maxPages: 50)
            case .repeatedToken: .init()
            case .tooManyShards: .init(maxShards: 10)
            }
        }
        /// The NextToken of the `call`-th page: A, B, A, … or a fresh one each time.
        func token(_ call: Int) -> String { self == .repeatedToken ? (call % 2 == 1 ? "A" : "B") : "token-\(call)" }
        var message: String {
            switch self {
            case .freshTokens: "50 pages"
            case .repeatedToken: "pages in a loop"
            case .tooManyShards: "more than 10 shards"
            }
        }
        /// Pages asked for before stopping.
        var calls: Int {
            switch self {
            case .freshTokens: 50
            case .repeatedToken: 3
            case .tooManyShards: 11
            }
        }
    }

    @Test(
        "ListShards paging without end stops with a fatal InvalidResponse: at maxPages, at maxShards, at the first repeated NextToken (A, B, A)",
        arguments: EndlessListing.allCases
    )
    func endlessListing(_ kind: EndlessListing) async throws {
        let calls = Counter()
        try await FakeKinesis.run(listing: kind.listing, handler: { _ in let n = calls.next(); return Self.page(n, next: kind.token(n)) }) { _, client in
            let error = try await #require(throws: KinesisError.self) { try await client.listShards(stream: .name("s")) }
            #expect(error.code == .invalidResponse)
            #expect(error.retryClass == .fatal)
            #expect(error.message.contains(kind.message), "\(error.message)")
            #expect(calls.current == kind.calls)
        }
    }

    @Test("a listing answered slowly page after page ends with a Timeout at the listing deadline, its request cancelled")
    func slowPages() async throws {
        let calls = Counter()
        let handler: LoopbackHTTPServer.Handler = { _ in
            let n = calls.next()
            try? await Task.sleep(for: .milliseconds(200))
            return Self.page(n, next: "token-\(n)")
        }
        try await FakeKinesis.run(listing: .init(timeout: .seconds(1)), handler: handler) { _, client in
            let start = ContinuousClock.now
            let error = try await #require(throws: KinesisError.self) { try await client.listShards(stream: .name("s")) }
            let elapsed = ContinuousClock.now - start
            #expect(error.code == .timeout)
            #expect(error.message.contains("did not finish within"), "\(error.message)")
            #expect(elapsed < .seconds(3), "\(elapsed)")
            #expect(calls.current < 10)
        }
    }

    @Test("DescribeStream resuming from the same shard again (HasMoreShards forever) stops with an InvalidResponse error")
    func describeStreamLoop() async throws {
        let calls = Counter()
        let page = #"{"StreamDescription":{"StreamName":"s","StreamARN":"arn:aws:kinesis:us-east-1:123456789012:stream/s","StreamStatus":"ACTIVE","Shards":[\#(FakeKinesis.shardJSON(0, start: "0", end: "1"))],"HasMoreShards":true}}"#
        try await FakeKinesis.run(handler: { _ in _ = calls.next(); return FakeKinesis.ok(page) }) { _, client in
            let error = try await #require(throws: KinesisError.self) { try await client.describeStream(stream: .name("s")) }
            #expect(error.code == .invalidResponse)
            #expect(error.message.contains("pages in a loop"), "\(error.message)")
            #expect(calls.current == 2)
        }
    }

    @Test("DescribeStreamSummary with a MaxRecordSizeInKiB that overflows ×1024, or zero, or a negative OpenShardCount: InvalidResponse naming it")
    func absurdSummary() async throws {
        for (member, value) in [("MaxRecordSizeInKiB", "9223372036854775807"), ("MaxRecordSizeInKiB", "0"), ("OpenShardCount", "-1")] {
            var fields = ["MaxRecordSizeInKiB": "1024", "OpenShardCount": "2"]
            fields[member] = value
            let answer = #"{"StreamDescriptionSummary":{"StreamName":"s","StreamARN":"arn:aws:kinesis:us-east-1:123456789012:stream/s","StreamStatus":"ACTIVE","OpenShardCount":\#(fields["OpenShardCount"]!),"MaxRecordSizeInKiB":\#(fields["MaxRecordSizeInKiB"]!)}}"#
            try await FakeKinesis.run(handler: { _ in FakeKinesis.ok(answer) }) { _, client in
                let error = try await #require(throws: KinesisError.self) { try await client.describeStreamSummary(stream: .name("s")) }
                #expect(error.code == .invalidResponse)
                #expect(error.message.contains(member), "\(error.message)")
            }
        }
    }

    @Test("a 307 to another port is not followed: the call fails with the 307, the other port is never hit")
    func noRedirects() async throws {
        let target = try await LoopbackHTTPServer.start { _ in FakeKinesis.ok("{}") }
        try await withCleanup {
            let redirect = LoopbackHTTPServer.Response(status: 307, headers: [("Location", target.url + "/")])
            try await FakeKinesis.run(retry: .init(maxAttempts: 1), handler: { _ in redirect }) { server, client in
                let error = try await #require(throws: KinesisError.self) {
                    try await client.putRecords([PutRecordsEntry(data: [1], partitionKey: "k")], stream: .name("s"))
                }
                #expect(error.httpStatus == 307)
                #expect(error.retryClass == .fatal)
                #expect(server.requests.count == 1)
            }
            // The same through the shared client meant for callers that pass their own.
            let redirecting = try await LoopbackHTTPServer.start { _ in redirect }
            let client = KinesisClient(
                configuration: try .init(region: "us-east-1", endpoint: KinesisEndpoint(url: redirecting.url), retry: .init(maxAttempts: 1)),
                credentialProvider: StaticCredentialProvider(TestKeys.example),
                httpClient: KinesisClient.sharedHTTPClient,
                logger: Logger(label: "test")
            )
            let shared = try await #require(throws: KinesisError.self) { try await client.describeStreamSummary(stream: .name("s")) }
            #expect(shared.httpStatus == 307)
            // And credential calls on it (the runner's and the CLI's default client): the container endpoint's
            // redirect would carry its Authorization token to the other host.
            let container = ContainerCredentialProvider(
                environment: isolatedEnvironment([
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI": redirecting.url + "/creds", "AWS_CONTAINER_AUTHORIZATION_TOKEN": "secret-token",
                ]),
                httpClient: KinesisClient.sharedHTTPClient,
                attempts: 1
            )
            let refused = try await #require(throws: CredentialProviderError.self) { try await container.credentials(logger: Logger(label: "test")) }
            #expect(refused.message.contains("HTTP 307"), "\(refused)")
            try await redirecting.stop()
            #expect(target.requests.isEmpty, "the redirect target was hit \(target.requests.count) times")
        } cleanup: {
            try await target.stop()
        }
    }
}
