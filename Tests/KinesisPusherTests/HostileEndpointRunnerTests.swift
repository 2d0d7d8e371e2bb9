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
}
