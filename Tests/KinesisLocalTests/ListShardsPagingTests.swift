import Foundation
import KinesisAPI
import KinesisLocal
import NIOCore
import NIOHTTP1
import Testing
import TestSupport

/// ListShards paging as AWS does it (reference §4, §13) — the opposite of moto.
@Suite("KinesisLocal ListShards paging")
struct ListShardsPagingTests {
    static func ids(_ answer: RawAnswer) -> [String] {
        (answer.object?["Shards"] as? [[String: Any]] ?? []).compactMap { $0["ShardId"] as? String }
    }

    @Test("MaxResults pages; follow-ups carry only NextToken (and MaxResults)")
    func pages() async throws {
        try await withServer(.init(streams: [.init(name: "s", shardCount: 5)])) { server in
            let first = try await rawKinesis(server.endpoint, operation: "ListShards", json: #"{"StreamName":"s","MaxResults":2}"#)
            #expect(first.status == 200)
            #expect(Self.ids(first) == [shardID(0), shardID(1)])
            let token1 = try #require(first.object?["NextToken"] as? String)

            let second = try await rawKinesis(server.endpoint, operation: "ListShards", json: #"{"NextToken":"\#(token1)","MaxResults":2}"#)
            #expect(second.status == 200, "\(second.body)")
            #expect(Self.ids(second) == [shardID(2), shardID(3)])
            let token2 = try #require(second.object?["NextToken"] as? String)

            // Without MaxResults the follow-up takes the default page size: everything left.
            let third = try await rawKinesis(server.endpoint, operation: "ListShards", json: #"{"NextToken":"\#(token2)"}"#)
            #expect(Self.ids(third) == [shardID(4)])
            #expect(third.object?["NextToken"] == nil)

            // A page token can be replayed while it is valid.
            let replay = try await rawKinesis(server.endpoint, operation: "ListShards", json: #"{"NextToken":"\#(token1)","MaxResults":10}"#)
            #expect(Self.ids(replay) == [shardID(2), shardID(3), shardID(4)])

            // Whole listing in one page, and ExclusiveStartShardId / AFTER_SHARD_ID on a first call.
            let all = try await rawKinesis(server.endpoint, operation: "ListShards", json: #"{"StreamARN":"arn:aws:kinesis:us-east-1:123456789012:stream/s"}"#)
            #expect(Self.ids(all) == (0..<5).map { shardID($0) })
            let after = try await rawKinesis(server.endpoint, operation: "ListShards", json: #"{"StreamName":"s","ExclusiveStartShardId":"\#(shardID(2))"}"#)
            #expect(Self.ids(after) == [shardID(3), shardID(4)])
            let afterFilter = try await rawKinesis(
                server.endpoint,
                operation: "ListShards",
                json: #"{"StreamName":"s","ShardFilter":{"Type":"AFTER_SHARD_ID","ShardId":"\#(shardID(3))"}}"#
            )
            #expect(Self.ids(afterFilter) == [shardID(4)])
        }
    }

    @Test("NextToken with StreamName, StreamARN, ShardFilter or ExclusiveStartShardId: InvalidArgumentException")
    func rejectedCombinations() async throws {
        try await withServer(.init(streams: [.init(name: "s", shardCount: 3)])) { server in
            let first = try await rawKinesis(server.endpoint, operation: "ListShards", json: #"{"StreamName":"s","MaxResults":1}"#)
            let token = try #require(first.object?["NextToken"] as? String)
            let combos: [(String, String)] = [
                ("StreamName", #""StreamName":"s""#),
                ("StreamARN", #""StreamARN":"arn:aws:kinesis:us-east-1:123456789012:stream/s""#),
                ("ShardFilter", #""ShardFilter":{"Type":"AT_LATEST"}"#),
                ("ExclusiveStartShardId", #""ExclusiveStartShardId":"shardId-000000000000""#),
            ]
            for (member, fragment) in combos {
                let answer = try await rawKinesis(server.endpoint, operation: "ListShards", json: #"{"NextToken":"\#(token)",\#(fragment)}"#)
                #expect(answer.status == 400)
                #expect(answer.errorType == "InvalidArgumentException", "\(member)")
                #expect(answer.message == "NextToken and \(member) cannot be provided together.", "\(answer.message ?? "")")
            }
            let garbage = try await rawKinesis(server.endpoint, operation: "ListShards", json: #"{"NextToken":"bm90IGEgdG9rZW4="}"#)
            #expect(garbage.errorType == "InvalidArgumentException")
            for bad in [0, 10_001] {
                let answer = try await rawKinesis(server.endpoint, operation: "ListShards", json: #"{"StreamName":"s","MaxResults":\#(bad)}"#)
                #expect(answer.errorType == "InvalidArgumentException", "MaxResults \(bad)")
            }
            let none = try await rawKinesis(server.endpoint, operation: "ListShards", json: "{}")
            #expect(none.errorType == "InvalidArgumentException")
        }
    }

    @Test("the client pages against KinesisLocal; repeating the stream on follow-ups (moto's way) is refused")
    func clientPaging() async throws {
        try await withServer(.init(streams: [.init(name: "s", shardCount: 7)])) { server in
            try await withClient(url: server.endpoint) { client in
                let shards = try await client.listShards(stream: .name("s"), filter: .atLatest, pageSize: 3)
                #expect(shards.map(\.shardID) == (0..<7).map { shardID($0) })
                #expect(shards.map(\.hashKeyRange) == evenSplit(7))
            }
            try await withClient(url: server.endpoint, retry: noRetry, configure: { $0.repeatsStreamOnListShardsPages = true }) { client in
                let error = await kinesisError { _ = try await client.listShards(stream: .name("s"), pageSize: 3) }
                #expect(error?.code == .invalidArgument)
                #expect(error?.message == "NextToken and StreamName cannot be provided together.")
                // One page needs no follow-up.
                let onePage = try await client.listShards(stream: .name("s"), pageSize: 10)
                #expect(onePage.count == 7)
            }
        }
    }

    @Test("AT_LATEST lists only open shards, across pages, after a reshard")
    func atLatest() async throws {
        try await withServer(.init(streams: [.init(name: "s", shardCount: 3)])) { server in
            try server.reshard(stream: "s", shardCount: 5)
            let first = try await rawKinesis(
                server.endpoint,
                operation: "ListShards",
                json: #"{"StreamName":"s","ShardFilter":{"Type":"AT_LATEST"},"MaxResults":2}"#
            )
            var ids = Self.ids(first)
            var token = first.object?["NextToken"] as? String
            var calls = 1
            while let current = token, calls < 10 {
                calls += 1
                let page = try await rawKinesis(server.endpoint, operation: "ListShards", json: #"{"NextToken":"\#(current)","MaxResults":2}"#)
                #expect(page.status == 200, "\(page.body)")
                ids += Self.ids(page)
                token = page.object?["NextToken"] as? String
            }
            #expect(calls == 3)
            // 3 → 5 splits two shards and merges pieces (13 shards in all, see ReshardingTests): the listing
            // without a filter has every one, AT_LATEST the 5 open ones in the same order.
            let everything = try await rawKinesis(server.endpoint, operation: "ListShards", json: #"{"StreamName":"s","ShardFilter":{"Type":"FROM_TRIM_HORIZON"}}"#)
            #expect(Self.ids(everything) == (0..<13).map { shardID($0) })
            let open = (everything.object?["Shards"] as? [[String: Any]] ?? []).filter {
                ($0["SequenceNumberRange"] as? [String: Any])?["EndingSequenceNumber"] == nil
            }
            #expect(open.count == 5)
            #expect(ids == open.compactMap { $0["ShardId"] as? String })
            #expect(!ids.contains(shardID(0)) && !ids.contains(shardID(1)))
            let badType = try await rawKinesis(server.endpoint, operation: "ListShards", json: #"{"StreamName":"s","ShardFilter":{"Type":"SIDEWAYS"}}"#)
            #expect(badType.errorType == "ValidationException")
        }
    }

    @Test("MaxResults above 1000 still returns at most 1000 shards per page")
    func pageCap() async throws {
        try await withServer(.init(streams: [.init(name: "big", shardCount: 1001)])) { server in
            let first = try await rawKinesis(server.endpoint, operation: "ListShards", json: #"{"StreamName":"big","MaxResults":5000}"#)
            #expect(Self.ids(first).count == 1000)
            let token = try #require(first.object?["NextToken"] as? String)
            let second = try await rawKinesis(server.endpoint, operation: "ListShards", json: #"{"NextToken":"\#(token)","MaxResults":5000}"#)
            #expect(Self.ids(second) == [shardID(1000)])
            #expect(second.object?["NextToken"] == nil)
        }
    }
}
