import KinesisAPI
import KinesisLocal
import Testing
import TestSupport

/// UpdateShardCount's default limits as the AWS API reference lists them (at most double, at least half the open
/// shards, at most 10000, provisioned streams only), each with Kinesis's error type and message; a call within
/// them reshards.
@Suite("KinesisLocal UpdateShardCount bounds")
struct UpdateShardCountBoundsTests {
    static func update(_ server: KinesisLocal, stream: String = "s", to target: Int) async throws -> RawAnswer {
        try await rawKinesis(
            server.endpoint,
            operation: "UpdateShardCount",
            json: #"{"StreamName":"\#(stream)","TargetShardCount":\#(target),"ScalingType":"UNIFORM_SCALING"}"#
        )
    }

    static func openShards(_ server: KinesisLocal, stream: String = "s") -> Int? {
        server.stats().streams[stream]?.openShards
    }

    @Test("over double, under half and over 10000: LimitExceededException with both counts; nothing changes")
    func refusals() async throws {
        try await withServer(.init(streams: [.init(name: "s", shardCount: 4)])) { server in
            for (target, message) in [
                (9, "UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: 4, Target shard count: 9"),
                (1, "UpdateShardCount cannot scale down below half your current open shard count. Current open shard count: 4, Target shard count: 1"),
                (10_001, "Target shard count or number of open shards cannot be greater than 10000. Current open shard count: 4, Target shard count: 10001"),
            ] {
                let answer = try await Self.update(server, to: target)
                #expect(answer.status == 400, "\(target): \(answer.body)")
                #expect(answer.errorType == "LimitExceededException", "\(target): \(answer.body)")
                #expect(answer.message == message)
                #expect(Self.openShards(server) == 4, "a refused UpdateShardCount to \(target) resharded")
            }
            let zero = try await Self.update(server, to: 0)
            #expect(zero.status == 400)
            #expect(zero.errorType == "ValidationException")
            #expect(zero.message?.contains("Member must have value greater than or equal to 1") == true, "\(zero.body)")
            #expect(Self.openShards(server) == 4)
        }
    }

    @Test("the bounds themselves are allowed: exactly double, exactly half, and odd counts round in the caller's favour")
    func boundsAllowed() async throws {
        try await withServer(.init(streams: [.init(name: "s", shardCount: 3)])) { server in
            // 3 → 6 (double), 6 → 3 (half), 3 → 2 (2 ≥ 1.5), 2 → 1 (half), 1 → 2 (double).
            for (current, target) in [(3, 6), (6, 3), (3, 2), (2, 1), (1, 2)] {
                let answer = try await Self.update(server, to: target)
                #expect(answer.status == 200, "\(current) → \(target): \(answer.body)")
                #expect(answer.object?["CurrentShardCount"] as? Int == current)
                #expect(answer.object?["TargetShardCount"] as? Int == target)
                #expect(Self.openShards(server) == target)
            }
            // Half of 3 is 1.5: 1 is below it.
            _ = try await Self.update(server, to: 3)
            #expect(Self.openShards(server) == 3)
            let belowHalf = try await Self.update(server, to: 1)
            #expect(belowHalf.errorType == "LimitExceededException", "\(belowHalf.body)")
            #expect(belowHalf.message?.contains("Current open shard count: 3, Target shard count: 1") == true)
            // The bound is on open shards, not on every shard the stream ever had (closed parents do not count).
            let stats = try #require(server.stats().streams["s"])
            #expect(stats.shards.count > 6)
            let double = try await Self.update(server, to: 6)
            #expect(double.status == 200, "\(double.body)")
        }
    }

    @Test("an on-demand stream cannot be scaled with UpdateShardCount; the admin reshard still can")
    func onDemand() async throws {
        try await withServer(.init(streams: [.init(name: "od", onDemand: true), .init(name: "s", shardCount: 2)])) { server in
            let answer = try await Self.update(server, stream: "od", to: 5)
            #expect(answer.status == 400)
            #expect(answer.errorType == "ValidationException")
            #expect(answer.message == "Request is invalid. Stream od under account 123456789012 is in On-Demand mode.")
            #expect(Self.openShards(server, stream: "od") == 4)
            // The test hook is not bound by the API's limits: 2 → 7 in one step.
            try server.reshard(stream: "s", shardCount: 7)
            #expect(Self.openShards(server) == 7)
        }
    }
}
