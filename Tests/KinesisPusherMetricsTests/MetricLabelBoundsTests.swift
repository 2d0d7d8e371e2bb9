import Foundation
import KinesisPusher
import KinesisPusherPrometheus
import Testing
import TestSupport

/// Label values come from the endpoint's answers; an endpoint making them up must not create series.
@Suite("Runner metric labels stay bounded against a made-up answers endpoint", .timeLimit(.minutes(1)))
struct MetricLabelBoundsTests {
    static let mapShard = "shardId-000000000000"

    /// A one-shard stream whose PutRecords answers alternate: every record failed with a made-up code or a
    /// throttle; every record stored on a shard id that is made up (well-formed but unlisted, or malformed) or
    /// the listed one; the second call fails whole with a made-up 500.
    static func handler(calls: Locked<Int>) -> LoopbackHTTPServer.Handler {
        { @Sendable request in
            let ok: (String) -> LoopbackHTTPServer.Response = { LoopbackHTTPServer.Response(status: 200, headers: [("Content-Type", "application/x-amz-json-1.1")], body: $0) }
            switch request.header("X-Amz-Target")?.split(separator: ".").last {
            case "DescribeStreamSummary":
                return ok(#"{"StreamDescriptionSummary":{"StreamName":"s","StreamARN":"arn:aws:kinesis:us-east-1:123456789012:stream/s","StreamStatus":"ACTIVE","OpenShardCount":1}}"#)
            case "ListShards":
                return ok(#"{"Shards":[{"ShardId":"\#(mapShard)","HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"340282366920938463463374607431768211455"},"SequenceNumberRange":{"StartingSequenceNumber":"1"}}]}"#)
            case "PutRecords":
                let call = calls.withLock { $0 += 1; return $0 }
                let body = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any]
                let count = (body?["Records"] as? [Any])?.count ?? 0
                if call == 2 {
                    return LoopbackHTTPServer.Response(status: 500, headers: [("Content-Type", "application/x-amz-json-1.1")], body: #"{"__type":"MadeUp\#(call)Exception"}"#)
                }
                let entries = (0..<count).map { index -> String in
                    if call % 2 == 1 {
                        return index % 2 == 0
                            ? #"{"ErrorCode":"Bogus-\#(call)-\#(index)","ErrorMessage":"x"}"#
                            : #"{"ErrorCode":"ProvisionedThroughputExceededException","ErrorMessage":"Rate exceeded for shard shardId-7777\#(call) in stream s"}"#
                    }
                    let shard = [mapShard, "shardId-" + String(format: "%012d", call * 1000 + index), "evil-\(call)-\(index)"][index % 3]
                    return #"{"SequenceNumber":"\#(call * 1000 + index)","ShardId":"\#(shard)"}"#
                }
                let failed = call % 2 == 1 ? count : 0
                return ok(#"{"Records":[\#(entries.joined(separator: ","))],"FailedRecordCount":\#(failed)}"#)
            default:
                return LoopbackHTTPServer.Response(status: 400, body: #"{"__type":"UnknownOperationException"}"#)
            }
        }
    }

    @Test("error_code outside Kinesis's documented codes and shard ids outside the listed map become `other`")
    func boundedLabels() async throws {
        let calls = Locked(0)
        let server = try await LoopbackHTTPServer.start(handler: Self.handler(calls: calls))
        try await withCleanup {
            let metrics = PrometheusMetrics()
            let runner = try makeRunner(endpoint: server.url, factory: metrics.factory, perShard: true, unpaced)
            let count = 300
            let (_, run) = try await withRunning(runner) {
                try await until { Exposition(metrics.exposition()).value("kinesis_pusher_open_shards") == 1 }
                for i in 0..<count { try await runner.send(Record(text: "\(i)", partitionKey: "k\(i)")) }
                try await until { runner.stats.delivered + runner.stats.failed == count }
            }
            try run.get()
            let exposition = Exposition(metrics.exposition())
            let known = Set(["ProvisionedThroughputExceededException", "other"])
            for family in ["kinesis_pusher_throttled_records_total", "kinesis_pusher_failed_attempts_total", "kinesis_pusher_put_request_errors_total"] {
                let codes = Set(try #require(exposition.families[family], "\(family)").samples.compactMap { $0.labels["error_code"] })
                #expect(codes.isSubset(of: known), "\(family): \(codes.sorted())")
            }
            let failedCodes = exposition.families["kinesis_pusher_failed_attempts_total"]?.samples.compactMap { $0.labels["error_code"] }
            #expect(failedCodes == ["other"])
            for family in ["kinesis_pusher_shard_delivered_records_total", "kinesis_pusher_shard_throttled_records_total"] {
                let shards = Set(try #require(exposition.families[family], "\(family)").samples.compactMap { $0.labels["shard"] })
                #expect(shards.isSubset(of: [Self.mapShard, "other"]), "\(family): \(shards.sorted())")
            }
            let delivered = Set(exposition.families["kinesis_pusher_shard_delivered_records_total"]?.samples.compactMap { $0.labels["shard"] } ?? [])
            #expect(delivered == [Self.mapShard, "other"])
            checkWellFormed(exposition)
        } cleanup: {
            try await server.stop()
        }
    }
}
