import Foundation
import KinesisAPI
import KinesisLocal
import Testing
import TestSupport

/// Streams live in the region a request is signed for; ARNs carry it.
@Suite("KinesisLocal regions")
struct RegionTests {
    @Test("the same name in two regions is two streams, each with its region in its ARN and its own records")
    func twoRegions() async throws {
        try await withServer(.init(streams: [.init(name: "s", shardCount: 1)])) { server in
            let created = try await call(server, "CreateStream", ["StreamName": "s", "ShardCount": 2], region: "eu-west-1")
            #expect(created.status == 200, "\(created.body)")
            let east = try await call(server, "DescribeStreamSummary", ["StreamName": "s"])
            let west = try await call(server, "DescribeStreamSummary", ["StreamName": "s"], region: "eu-west-1")
            let eastSummary = try #require(east.object?["StreamDescriptionSummary"] as? [String: Any])
            let westSummary = try #require(west.object?["StreamDescriptionSummary"] as? [String: Any])
            #expect(eastSummary["StreamARN"] as? String == "arn:aws:kinesis:us-east-1:123456789012:stream/s")
            #expect(westSummary["StreamARN"] as? String == "arn:aws:kinesis:eu-west-1:123456789012:stream/s")
            #expect(eastSummary["OpenShardCount"] as? Int == 1)
            #expect(westSummary["OpenShardCount"] as? Int == 2)

            let put = try await call(server, "PutRecord", ["StreamName": "s", "Data": "d2VzdA==", "PartitionKey": "k"], region: "eu-west-1")
            #expect(put.status == 200, "\(put.body)")
            #expect(try server.storedRecords(stream: "s").isEmpty, "a write signed for eu-west-1 landed in us-east-1")
            #expect(try server.storedRecords(stream: "s", region: "eu-west-1").map(\.data) == [Array("west".utf8)])
            #expect(server.stats().regions["eu-west-1"]?["s"]?.accepted == 1)
            #expect(server.stats().streams["s"]?.accepted == 0)

            let listed = try await call(server, "ListStreams", [:], region: "ap-south-1")
            #expect((listed.object?["StreamNames"] as? [String]) == [])
            // Deleting one leaves the other.
            #expect(try await call(server, "DeleteStream", ["StreamName": "s"], region: "eu-west-1").status == 200)
            #expect(try await call(server, "DescribeStreamSummary", ["StreamName": "s"]).status == 200)
        }
    }

    @Test("a stream missing in the signed region is ResourceNotFoundException naming the region it is in")
    func notFoundHint() async throws {
        try await withServer(.init(streams: [.init(name: "orders", shardCount: 1)])) { server in
            let answer = try await call(server, "PutRecord", ["StreamName": "orders", "Data": "AA==", "PartitionKey": "k"], region: "eu-central-1")
            #expect(answer.errorType == "ResourceNotFoundException")
            #expect(
                answer.message
                    == "Stream orders under account 123456789012 not found. (KinesisLocal has a stream orders in us-east-1; this request was signed for eu-central-1.)"
            )
            let plain = try await call(server, "PutRecord", ["StreamName": "nothing", "Data": "AA==", "PartitionKey": "k"])
            #expect(plain.message == "Stream nothing under account 123456789012 not found.")
        }
    }

    @Test("a StreamARN names its region and account: another region or account is refused, a malformed one too")
    func arns() async throws {
        try await withServer(.init(streams: [.init(name: "s", shardCount: 1)])) { server in
            let byARN = try await call(server, "DescribeStreamSummary", ["StreamARN": "arn:aws:kinesis:us-east-1:123456789012:stream/s"])
            #expect(byARN.status == 200, "\(byARN.body)")
            let otherRegion = try await call(server, "DescribeStreamSummary", ["StreamARN": "arn:aws:kinesis:us-east-1:123456789012:stream/s"], region: "us-west-2")
            #expect(otherRegion.errorType == "InvalidArgumentException")
            #expect(otherRegion.message?.contains("is in region us-east-1, but the request was signed for us-west-2") == true, "\(otherRegion.body)")
            let otherAccount = try await call(server, "DescribeStreamSummary", ["StreamARN": "arn:aws:kinesis:us-east-1:999999999999:stream/s"])
            #expect(otherAccount.errorType == "AccessDeniedException", "\(otherAccount.body)")
            let malformed = try await call(server, "DescribeStreamSummary", ["StreamARN": "arn:aws:sqs:us-east-1:123456789012:queue/s"])
            #expect(malformed.errorType == "ValidationException", "\(malformed.body)")
            let mismatch = try await call(server, "DescribeStreamSummary", ["StreamName": "t", "StreamARN": "arn:aws:kinesis:us-east-1:123456789012:stream/s"])
            #expect(mismatch.errorType == "InvalidArgumentException", "\(mismatch.body)")
        }
    }

    @Test("the configured region holds the configured streams; shard iterators and list tokens stay in their region")
    func configuredRegion() async throws {
        try await withServer(.init(region: "eu-north-1", streams: [.init(name: "s", shardCount: 1)])) { server in
            let home = try await call(server, "DescribeStreamSummary", ["StreamName": "s"], region: "eu-north-1")
            #expect(home.status == 200, "\(home.body)")
            #expect(try await call(server, "DescribeStreamSummary", ["StreamName": "s"]).errorType == "ResourceNotFoundException")
            let iterator = try await call(server, "GetShardIterator", ["StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"], region: "eu-north-1")
            let token = try #require(iterator.object?["ShardIterator"] as? String)
            #expect(try await call(server, "GetRecords", ["ShardIterator": token], region: "eu-north-1").status == 200)
            #expect(try await call(server, "GetRecords", ["ShardIterator": token]).errorType == "InvalidArgumentException")
        }
    }
}
