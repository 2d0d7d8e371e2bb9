import Foundation
import KinesisAPI
import NIOCore
import Testing
import TestSupport

@testable import KinesisLocal

/// Retention, enhanced monitoring, encryption, the largest record, capacity mode, and the account's limits.
@Suite("KinesisLocal stream settings and limits")
struct StreamSettingsTests {
    static func summary(_ server: KinesisLocal, _ stream: String = "s") async throws -> [String: Any] {
        let answer = try await call(server, "DescribeStreamSummary", ["StreamName": stream])
        return try #require(answer.object?["StreamDescriptionSummary"] as? [String: Any], "\(answer.body)")
    }

    @Test("retention: increase and decrease within 24–8760 hours, each refusing the other's direction")
    func retentionBounds() async throws {
        try await withServer(.init(streams: [.init(name: "s", shardCount: 1)])) { server in
            #expect(try await call(server, "IncreaseStreamRetentionPeriod", ["StreamName": "s", "RetentionPeriodHours": 168]).status == 200)
            #expect(try await Self.summary(server)["RetentionPeriodHours"] as? Int == 168)
            let shorter = try await call(server, "IncreaseStreamRetentionPeriod", ["StreamName": "s", "RetentionPeriodHours": 48])
            #expect(shorter.errorType == "InvalidArgumentException")
            #expect(
                shorter.message
                    == "Requested retention period (48 hours) for stream s can not be shorter than existing retention period (168 hours). Use DecreaseRetentionPeriod API."
            )
            let longer = try await call(server, "DecreaseStreamRetentionPeriod", ["StreamName": "s", "RetentionPeriodHours": 200])
            #expect(longer.errorType == "InvalidArgumentException")
            #expect(longer.message?.hasSuffix("Use IncreaseRetentionPeriod API.") == true)
            let tooShort = try await call(server, "DecreaseStreamRetentionPeriod", ["StreamName": "s", "RetentionPeriodHours": 23])
            #expect(tooShort.message == "Minimum allowed retention period is 24 hours. Requested retention period (23 hours) is too short.")
            let tooLong = try await call(server, "IncreaseStreamRetentionPeriod", ["StreamName": "s", "RetentionPeriodHours": 8761])
            #expect(tooLong.message == "Maximum allowed retention period is 8760 hours. Requested retention period (8761 hours) is too long.")
            #expect(try await call(server, "DecreaseStreamRetentionPeriod", ["StreamName": "s", "RetentionPeriodHours": 24]).status == 200)
            #expect(try await Self.summary(server)["RetentionPeriodHours"] as? Int == 24)
        }
    }

    /// Runs `operation` on `state` in the default region at `now`; the answer's JSON object.
    static func run(_ state: inout BackendState, _ operation: String, _ members: [String: Any], now: Double) throws -> [String: Any] {
        let body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: members))
        let answer = try LocalBackend.dispatch(operation, body: body, state: &state, in: .init(region: state.defaultRegion, now: now))
        return try JSONSerialization.jsonObject(with: Data(answer.readableBytesView)) as? [String: Any] ?? [:]
    }

    static func trimHorizon(_ state: inout BackendState, now: Double) throws -> [String] {
        let iterator = try run(&state, "GetShardIterator", ["StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"], now: now)
        let records = try run(&state, "GetRecords", ["ShardIterator": iterator["ShardIterator"] as! String], now: now)
        return (records["Records"] as? [[String: Any]] ?? []).compactMap { $0["PartitionKey"] as? String }
    }

    @Test("records older than the retention period leave the stream; a longer retention keeps them, a shorter one drops them at once")
    func retentionTrims() throws {
        var state = BackendState(configuration: .init(shardLimits: .off))
        try state.create(.init(name: "s", shardCount: 1), now: 0)
        let hour = 3600.0
        for (key, at) in [("first", 0.0), ("second", 10 * hour), ("third", 30 * hour)] {
            _ = try Self.run(&state, "PutRecord", ["StreamName": "s", "Data": "AA==", "PartitionKey": key], now: at)
        }
        // At 30 h with the default 24 h: "first" (30 h old) is gone, "second" (20 h) stays.
        #expect(try Self.trimHorizon(&state, now: 30 * hour) == ["second", "third"])
        _ = try Self.run(&state, "IncreaseStreamRetentionPeriod", ["StreamName": "s", "RetentionPeriodHours": 72], now: 30 * hour)
        #expect(try Self.trimHorizon(&state, now: 60 * hour) == ["second", "third"])
        #expect(try Self.trimHorizon(&state, now: 83 * hour) == ["third"])
        _ = try Self.run(&state, "DecreaseStreamRetentionPeriod", ["StreamName": "s", "RetentionPeriodHours": 48], now: 83 * hour)
        #expect(try Self.trimHorizon(&state, now: 83 * hour) == [], "a shorter retention kept a 53-hour-old record")
        #expect(state.stats.streams["s"]?.storedRecords == 0)
    }

    @Test("enhanced monitoring: ALL expands, the answer carries before and after, DescribeStream lists them")
    func monitoring() async throws {
        try await withServer(.init(streams: [.init(name: "s", shardCount: 1)])) { server in
            let enable = try await call(server, "EnableEnhancedMonitoring", ["StreamName": "s", "ShardLevelMetrics": ["IncomingBytes", "IteratorAgeMilliseconds"]])
            #expect(enable.status == 200, "\(enable.body)")
            #expect(enable.object?["CurrentShardLevelMetrics"] as? [String] == [])
            #expect(enable.object?["DesiredShardLevelMetrics"] as? [String] == ["IncomingBytes", "IteratorAgeMilliseconds"])
            #expect(enable.object?["StreamARN"] as? String == "arn:aws:kinesis:us-east-1:123456789012:stream/s")
            let all = try await call(server, "EnableEnhancedMonitoring", ["StreamName": "s", "ShardLevelMetrics": ["ALL"]])
            #expect((all.object?["DesiredShardLevelMetrics"] as? [String])?.count == 7)
            let disable = try await call(server, "DisableEnhancedMonitoring", ["StreamName": "s", "ShardLevelMetrics": ["IncomingBytes", "OutgoingBytes"]])
            #expect((disable.object?["DesiredShardLevelMetrics"] as? [String])?.count == 5)
            let monitoring = try #require(try await Self.summary(server)["EnhancedMonitoring"] as? [[String: [String]]])
            #expect(monitoring.first?["ShardLevelMetrics"]?.contains("IncomingBytes") == false)
            #expect(monitoring.first?["ShardLevelMetrics"]?.count == 5)
            let bad = try await call(server, "EnableEnhancedMonitoring", ["StreamName": "s", "ShardLevelMetrics": ["Nope"]])
            #expect(bad.errorType == "ValidationException")
        }
    }

    @Test("encryption: KMS shows in the description, in put answers and on read records; stopping turns it off")
    func encryption() async throws {
        try await withServer(.init(streams: [.init(name: "s", shardCount: 1)])) { server in
            let start = try await call(server, "StartStreamEncryption", ["StreamName": "s", "EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"])
            #expect(start.status == 200, "\(start.body)")
            let summary = try await Self.summary(server)
            #expect(summary["EncryptionType"] as? String == "KMS")
            #expect(summary["KeyId"] as? String == "alias/aws/kinesis")
            let put = try await call(server, "PutRecords", ["StreamName": "s", "Records": [["Data": "AA==", "PartitionKey": "k"]]])
            #expect(put.object?["EncryptionType"] as? String == "KMS")
            let single = try await call(server, "PutRecord", ["StreamName": "s", "Data": "AA==", "PartitionKey": "k"])
            #expect(single.object?["EncryptionType"] as? String == "KMS")
            let iterator = try await call(server, "GetShardIterator", ["StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"])
            let read = try await call(server, "GetRecords", ["ShardIterator": iterator.object?["ShardIterator"] as? String ?? ""])
            #expect((read.object?["Records"] as? [[String: Any]])?.map { $0["EncryptionType"] as? String } == ["KMS", "KMS"])

            let wrongKey = try await call(server, "StopStreamEncryption", ["StreamName": "s", "EncryptionType": "KMS", "KeyId": "other"])
            #expect(wrongKey.errorType == "InvalidArgumentException", "\(wrongKey.body)")
            let none = try await call(server, "StartStreamEncryption", ["StreamName": "s", "EncryptionType": "NONE", "KeyId": "k"])
            #expect(none.errorType == "InvalidArgumentException")
            #expect(try await call(server, "StopStreamEncryption", ["StreamName": "s", "EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"]).status == 200)
            #expect(try await Self.summary(server)["EncryptionType"] as? String == "NONE")
            let after = try await call(server, "PutRecords", ["StreamName": "s", "Records": [["Data": "AA==", "PartitionKey": "k"]]])
            #expect(after.object?["EncryptionType"] as? String == "NONE")
        }
    }

    @Test("UpdateMaxRecordSize raises the largest record a put takes; outside 1024–10240 KiB it is refused")
    func maxRecordSize() async throws {
        try await withServer(.init(streams: [.init(name: "s", shardCount: 1)], shardLimits: .off)) { server in
            let arn = "arn:aws:kinesis:us-east-1:123456789012:stream/s"
            let big = Data(repeating: 7, count: 2 << 20).base64EncodedString()
            let before = try await call(server, "PutRecord", ["StreamName": "s", "Data": big, "PartitionKey": "k"])
            #expect(before.errorType == "ValidationException", "a 2 MiB record went into a 1 MiB stream")
            #expect(try await call(server, "UpdateMaxRecordSize", ["StreamARN": arn, "MaxRecordSizeInKiB": 4096]).status == 200)
            #expect(try await Self.summary(server)["MaxRecordSizeInKiB"] as? Int == 4096)
            #expect(try await call(server, "PutRecord", ["StreamName": "s", "Data": big, "PartitionKey": "k"]).status == 200)
            let small = try await call(server, "UpdateMaxRecordSize", ["StreamARN": arn, "MaxRecordSizeInKiB": 512])
            #expect(small.errorType == "ValidationException")
            let noARN = try await call(server, "UpdateMaxRecordSize", ["MaxRecordSizeInKiB": 2048])
            #expect(noARN.errorType == "ValidationException", "\(noARN.body)")
        }
    }

    @Test("UpdateStreamMode switches capacity mode (twice a day at most); UpdateShardCount is then refused on demand")
    func streamMode() async throws {
        try await withServer(.init(streams: [.init(name: "s", shardCount: 2)])) { server in
            let arn = "arn:aws:kinesis:us-east-1:123456789012:stream/s"
            let same = try await call(server, "UpdateStreamMode", ["StreamARN": arn, "StreamModeDetails": ["StreamMode": "PROVISIONED"]])
            #expect(same.errorType == "ResourceInUseException", "\(same.body)")
            #expect(try await call(server, "UpdateStreamMode", ["StreamARN": arn, "StreamModeDetails": ["StreamMode": "ON_DEMAND"]]).status == 200)
            #expect((try await Self.summary(server)["StreamModeDetails"] as? [String: String])?["StreamMode"] == "ON_DEMAND")
            let scale = try await call(server, "UpdateShardCount", ["StreamName": "s", "TargetShardCount": 4, "ScalingType": "UNIFORM_SCALING"])
            #expect(scale.message == "Request is invalid. Stream s under account 123456789012 is in On-Demand mode.")
            #expect(try await call(server, "UpdateStreamMode", ["StreamARN": arn, "StreamModeDetails": ["StreamMode": "PROVISIONED"]]).status == 200)
            let third = try await call(server, "UpdateStreamMode", ["StreamARN": arn, "StreamModeDetails": ["StreamMode": "ON_DEMAND"]])
            #expect(third.errorType == "LimitExceededException", "\(third.body)")
            let bad = try await call(server, "UpdateStreamMode", ["StreamARN": arn, "StreamModeDetails": ["StreamMode": "FAST"]])
            #expect(bad.errorType == "ValidationException")
        }
    }

    @Test("the shard quota: DescribeLimits reports it; CreateStream, SplitShard and UpdateShardCount past it are refused")
    func shardQuota() async throws {
        try await withServer(.init(streams: [.init(name: "s", shardCount: 4)], accountLimits: .init(shards: 10, onDemandStreams: 1))) { server in
            let limits = try await call(server, "DescribeLimits")
            #expect(limits.object?["ShardLimit"] as? Int == 10)
            #expect(limits.object?["OpenShardCount"] as? Int == 4)
            #expect(limits.object?["OnDemandStreamCountLimit"] as? Int == 1)
            let tooMany = try await call(server, "CreateStream", ["StreamName": "t", "ShardCount": 7])
            #expect(tooMany.errorType == "LimitExceededException")
            #expect(tooMany.message?.hasPrefix("This request would exceed the shard limit for the account 123456789012 in us-east-1. Current shard count for the account: 4. Limit: 10. Number of additional shards that would have resulted from this request: 7.") == true, "\(tooMany.body)")
            #expect(try await call(server, "CreateStream", ["StreamName": "t", "ShardCount": 6]).status == 200)
            let split = try await call(server, "SplitShard", ["StreamName": "s", "ShardToSplit": "shardId-000000000000", "NewStartingHashKey": "1000"])
            #expect(split.errorType == "LimitExceededException", "\(split.body)")
            let scale = try await call(server, "UpdateShardCount", ["StreamName": "s", "TargetShardCount": 5, "ScalingType": "UNIFORM_SCALING"])
            #expect(scale.errorType == "LimitExceededException", "\(scale.body)")
            // Scaling down frees quota.
            #expect(try await call(server, "UpdateShardCount", ["StreamName": "s", "TargetShardCount": 2, "ScalingType": "UNIFORM_SCALING"]).status == 200)
            #expect(try await call(server, "DescribeLimits").object?["OpenShardCount"] as? Int == 8)
            // Another region has its own quota.
            #expect(try await call(server, "CreateStream", ["StreamName": "t", "ShardCount": 10], region: "eu-west-1").status == 200)
            #expect(try await call(server, "CreateStream", ["StreamName": "od", "StreamModeDetails": ["StreamMode": "ON_DEMAND"], "ShardCount": 1]).status == 200)
            let secondOnDemand = try await call(server, "CreateStream", ["StreamName": "od2", "StreamModeDetails": ["StreamMode": "ON_DEMAND"], "ShardCount": 1])
            #expect(secondOnDemand.errorType == "LimitExceededException", "\(secondOnDemand.body)")
        }
    }

    @Test("AWS's default quota per region: 500 shards in the large regions, 200 elsewhere")
    func defaultQuota() {
        let limits = KinesisLocal.Configuration.AccountLimits()
        #expect(limits.shardLimit(in: "us-east-1") == 500)
        #expect(limits.shardLimit(in: "eu-west-1") == 500)
        #expect(limits.shardLimit(in: "ap-southeast-2") == 200)
    }
}
