import Foundation
import KinesisAPI
import KinesisPusher
import Testing
import TestSupport

/// The producer against an endpoint that answers nonsense: a clear error, never a trap, and nothing sent elsewhere.
@Suite("Runner against a hostile endpoint")
struct HostileEndpointRunnerTests {
    static func json(_ body: String) -> LoopbackHTTPServer.Response {
        LoopbackHTTPServer.Response(status: 200, headers: [("Content-Type", "application/x-amz-json-1.1")], body: body)
    }

    @Test("checkShards with a MaxRecordSizeInKiB whose bytes overflow Int: streamUnusable naming it, no trap")
    func hugeRecordSize() async throws {
        let summary = #"{"StreamDescriptionSummary":{"StreamName":"s","StreamARN":"arn:aws:kinesis:us-east-1:123456789012:stream/s","StreamStatus":"ACTIVE","OpenShardCount":1,"MaxRecordSizeInKiB":9007199254740992}}"#
        let server = try await LoopbackHTTPServer.start { _ in Self.json(summary) }
        try await withCleanup {
            let runner = try makeRunner(endpoint: server.url)
            let error = try await #require(throws: RunnerError.self) { try await runner.checkShards() }
            #expect(error.code == .streamUnusable)
            #expect(error.message.contains("MaxRecordSizeInKiB"), "\(error.message)")
        } cleanup: {
            try await server.stop()
        }
    }

    @Test("a 307 to PutRecords is not followed by the runner's own data-plane HTTP client: the records fail, the target port is never hit")
    func noRedirects() async throws {
        let target = try await LoopbackHTTPServer.start { _ in Self.json("{}") }
        let summary = #"{"StreamDescriptionSummary":{"StreamName":"s","StreamARN":"arn:aws:kinesis:us-east-1:123456789012:stream/s","StreamStatus":"ACTIVE","OpenShardCount":1}}"#
        let shards = #"{"Shards":[{"ShardId":"shardId-000000000000","HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"340282366920938463463374607431768211455"},"SequenceNumberRange":{"StartingSequenceNumber":"1"}}]}"#
        let redirecting = try await LoopbackHTTPServer.start { request in
            switch request.header("X-Amz-Target")?.split(separator: ".").last {
            case "DescribeStreamSummary": Self.json(summary)
            case "ListShards": Self.json(shards)
            default: LoopbackHTTPServer.Response(status: 307, headers: [("Location", target.url + "/")])
            }
        }
        try await withCleanup {
            let runner = try makeRunner(endpoint: redirecting.url)
            let (failure, run) = try await withRunning(runner) { () -> RunnerError? in
                do {
                    _ = try await runner.put(Record(text: "r", partitionKey: "k"))
                    return nil
                } catch let error as RunnerError {
                    return error
                }
            }
            try run.get()
            let error = try #require(failure, "the record was delivered")
            #expect(error.kinesisError?.httpStatus == 307, "\(error)")
            #expect(redirecting.requests.contains { $0.header("X-Amz-Target") == "Kinesis_20131202.PutRecords" })
            #expect(target.requests.isEmpty, "the redirect target was hit \(target.requests.count) times")
        } cleanup: {
            try await redirecting.stop()
            try await target.stop()
        }
    }
}
