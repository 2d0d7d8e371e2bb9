import AWSCredentials
import AWSSigning
import Foundation
import KinesisAPI
import KinesisLocal
import Logging
import TestSupport
import Testing

@Suite("Clock skew")
struct ClockSkewTests {
    @Test("a client whose clock is 10 minutes slow is refused once, then signs with the server's Date and succeeds")
    func correctsSkewFromTheDateHeader() async throws {
        let server = try await KinesisLocal.start(
            .init(
                streams: [.init(name: "s", shardCount: 1)],
                authentication: .strict([.init(accessKeyID: TestKeys.test.accessKeyID, secretAccessKey: TestKeys.test.secretAccessKey)])
            )
        )
        let client = KinesisClient(
            configuration: try .init(region: "us-east-1", endpoint: KinesisEndpoint(url: server.endpoint), retry: .init(maxAttempts: 1)),
            credentialProvider: StaticCredentialProvider(TestKeys.test),
            logger: Logger(label: "test"),
            now: { Date().addingTimeInterval(-600) }
        )
        let result = try await client.putRecords([PutRecordsEntry(data: Array("x".utf8), partitionKey: "k")], stream: .name("s"))
        #expect(result.failedRecordCount == 0)
        // The offset sticks: the next call is signed right the first time.
        let summary = try await client.describeStreamSummary(stream: .name("s"))
        #expect(summary.openShardCount == 1)
        #expect(server.stats().requests == 3)  // one refused, then two accepted
        try await client.shutdown()
        try await server.stop()
    }

    @Test("without a Date header the signature error surfaces as it is")
    func noCorrectionWithoutServerTime() async throws {
        let server = try await LoopbackHTTPServer.start { _ in
            .init(status: 400, headers: [("Content-Type", "application/x-amz-json-1.1")],
                  body: #"{"__type":"InvalidSignatureException","message":"Signature expired: 20200101T000000Z is now earlier than 20200101T000600Z (20200101T001100Z - 5 min.)"}"#)
        }
        let client = KinesisClient(
            configuration: try .init(region: "us-east-1", endpoint: KinesisEndpoint(url: server.url), retry: .init(maxAttempts: 1)),
            credentialProvider: StaticCredentialProvider(TestKeys.test),
            logger: Logger(label: "test")
        )
        await #expect(throws: KinesisError.self) { try await client.describeStreamSummary(stream: .name("s")) }
        #expect(server.requests.count == 1)
        try await client.shutdown()
        try await server.stop()
    }
}
