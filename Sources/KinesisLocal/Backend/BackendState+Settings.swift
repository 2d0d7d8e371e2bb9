import Foundation
import KinesisAPI
import NIOCore

/// A stream's settings: retention, enhanced monitoring, encryption, the largest record; the account's limits; and
/// resource policies on streams and consumers.
extension BackendState {
    /// AWS's retention bounds: one day to one year.
    static let retentionHours = 24...8760

    mutating func increaseRetention(_ p: RequestParameters, in context: RequestContext) throws(AWSErrorReply) -> ByteBuffer {
        try changeRetention(p, in: context, increase: true)
    }

    mutating func decreaseRetention(_ p: RequestParameters, in context: RequestContext) throws(AWSErrorReply) -> ByteBuffer {
        try changeRetention(p, in: context, increase: false)
    }

    /// Records older than a shortened retention leave the stream at once.
    private mutating func changeRetention(_ p: RequestParameters, in context: RequestContext, increase: Bool) throws(AWSErrorReply) -> ByteBuffer {
        let address = try existingStream(try p.string("StreamName"), arn: try p.string("StreamARN"), in: context)
        let hours = try p.required("RetentionPeriodHours", p.int)
        guard hours >= Self.retentionHours.lowerBound else {
            throw .invalidArgument("Minimum allowed retention period is 24 hours. Requested retention period (\(hours) hours) is too short.")
        }
        guard hours <= Self.retentionHours.upperBound else {
            throw .invalidArgument("Maximum allowed retention period is 8760 hours. Requested retention period (\(hours) hours) is too long.")
        }
        try withStream(address) { stream throws(AWSErrorReply) in
            let current = stream.retentionHours
            if increase, hours < current {
                throw .invalidArgument(
                    "Requested retention period (\(hours) hours) for stream \(address.name) can not be shorter than existing retention period (\(current) hours). Use DecreaseRetentionPeriod API."
                )
            }
            if !increase, hours > current {
                throw .invalidArgument(
                    "Requested retention period (\(hours) hours) for stream \(address.name) can not be longer than existing retention period (\(current) hours). Use IncreaseRetentionPeriod API."
                )
            }
            stream.retentionHours = hours
            stream.trimExpired(now: context.now)
        }
        return ByteBuffer(string: "{}")
    }

    /// The shard-level metrics enhanced monitoring knows, in AWS's order; `ALL` stands for every one.
    static let shardLevelMetrics = [
        "IncomingBytes", "IncomingRecords", "OutgoingBytes", "OutgoingRecords", "WriteProvisionedThroughputExceeded",
        "ReadProvisionedThroughputExceeded", "IteratorAgeMilliseconds",
    ]

    mutating func enableMonitoring(_ p: RequestParameters, in context: RequestContext) throws(AWSErrorReply) -> ByteBuffer {
        try changeMonitoring(p, in: context) { current, named in current.union(named) }
    }

    mutating func disableMonitoring(_ p: RequestParameters, in context: RequestContext) throws(AWSErrorReply) -> ByteBuffer {
        try changeMonitoring(p, in: context) { current, named in current.subtracting(named) }
    }

    private mutating func changeMonitoring(
        _ p: RequestParameters,
        in context: RequestContext,
        _ change: (Set<String>, Set<String>) -> Set<String>
    ) throws(AWSErrorReply) -> ByteBuffer {
        let address = try existingStream(try p.string("StreamName"), arn: try p.string("StreamARN"), in: context)
        let named = try p.required("ShardLevelMetrics", p.strings)
        guard (1...7).contains(named.count) else {
            throw .validation("1 validation error detected: Value at 'shardLevelMetrics' failed to satisfy constraint: Member must have length between 1 and 7")
        }
        for metric in named where metric != "ALL" && !Self.shardLevelMetrics.contains(metric) {
            throw .validation(
                "1 validation error detected: Value '[\(named.joined(separator: ", "))]' at 'shardLevelMetrics' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [IncomingBytes, IncomingRecords, OutgoingBytes, OutgoingRecords, WriteProvisionedThroughputExceeded, ReadProvisionedThroughputExceeded, IteratorAgeMilliseconds, ALL]]"
            )
        }
        let expanded = named.contains("ALL") ? Set(Self.shardLevelMetrics) : Set(named)
        let (before, after) = try withStream(address) { stream in
            let before = stream.shardLevelMetrics
            let desired = change(Set(before), expanded)
            stream.shardLevelMetrics = Self.shardLevelMetrics.filter(desired.contains)
            return (before, stream.shardLevelMetrics)
        }
        var writer = JSONObjectWriter()
        writer.field("StreamName", address.name)
        writer.field("StreamARN", arn(address))
        writer.field("CurrentShardLevelMetrics", strings: before)
        writer.field("DesiredShardLevelMetrics", strings: after)
        return writer.finish()
    }

    mutating func startEncryption(_ p: RequestParameters, in context: RequestContext) throws(AWSErrorReply) -> ByteBuffer {
        let (address, keyID) = try encryptionRequest(p, in: context)
        try withStream(address) { stream in
            stream.encryptionType = "KMS"
            stream.keyID = keyID
        }
        return ByteBuffer(string: "{}")
    }

    mutating func stopEncryption(_ p: RequestParameters, in context: RequestContext) throws(AWSErrorReply) -> ByteBuffer {
        let (address, keyID) = try encryptionRequest(p, in: context)
        let account = self.account
        try withStream(address) { stream throws(AWSErrorReply) in
            if let current = stream.keyID, current != keyID {
                throw .invalidArgument("KeyId \(keyID) is not the key stream \(address.name) under account \(account) is encrypted with.")
            }
            stream.encryptionType = "NONE"
            stream.keyID = nil
        }
        return ByteBuffer(string: "{}")
    }

    /// Start/StopStreamEncryption's members: the stream, `EncryptionType` `KMS` and a `KeyId` (any key is taken:
    /// there is no KMS here).
    private func encryptionRequest(_ p: RequestParameters, in context: RequestContext) throws(AWSErrorReply) -> (StreamAddress, String) {
        let address = try existingStream(try p.string("StreamName"), arn: try p.string("StreamARN"), in: context)
        let type = try p.required("EncryptionType", p.string)
        guard type == "KMS" else {
            guard type == "NONE" else {
                throw .validation("1 validation error detected: Value '\(type)' at 'encryptionType' failed to satisfy constraint: Member must satisfy enum value set: [KMS, NONE]")
            }
            throw .invalidArgument("EncryptionType must be KMS; got NONE.")
        }
        let keyID = try p.required("KeyId", p.string)
        guard (1...2048).contains(keyID.count) else {
            throw .validation("1 validation error detected: Value at 'keyId' failed to satisfy constraint: Member must have length between 1 and 2048")
        }
        return (address, keyID)
    }

    mutating func updateMaxRecordSize(_ p: RequestParameters, in context: RequestContext) throws(AWSErrorReply) -> ByteBuffer {
        let address = try existingStream(nil, arn: try p.required("StreamARN", p.string), in: context)
        let size = try p.required("MaxRecordSizeInKiB", p.int)
        guard (1024...10240).contains(size) else {
            throw .validation("1 validation error detected: Value '\(size)' at 'maxRecordSizeInKiB' failed to satisfy constraint: Member must have value between 1024 and 10240")
        }
        try withStream(address) { $0.maxRecordSizeKiB = size }
        return ByteBuffer(string: "{}")
    }

    func describeLimits(in context: RequestContext) -> ByteBuffer {
        var writer = JSONObjectWriter()
        writer.field("ShardLimit", accountLimits.shardLimit(in: context.region))
        writer.field("OpenShardCount", openShardCount(in: context.region))
        writer.field("OnDemandStreamCount", onDemandStreamCount(in: context.region))
        writer.field("OnDemandStreamCountLimit", accountLimits.onDemandStreams)
        return writer.finish()
    }

    /// PutResourcePolicy: the policy must be a JSON object (AWS also checks its statements; this does not).
    mutating func putResourcePolicy(_ p: RequestParameters, in context: RequestContext) throws(AWSErrorReply) -> ByteBuffer {
        let resource = try resource(try p.required("ResourceARN", p.string), member: "ResourceARN", in: context)
        let policy = try p.required("Policy", p.string)
        guard let data = policy.data(using: .utf8), (try? JSONSerialization.jsonObject(with: data)) is [String: Any] else {
            throw .invalidArgument("Policy is not a valid JSON policy document.")
        }
        try withAttributes(of: resource) { attributes, _ in attributes.policy = policy }
        return ByteBuffer(string: "{}")
    }

    /// GetResourcePolicy: `{}` when the resource has none, as AWS answers.
    mutating func getResourcePolicy(_ p: RequestParameters, in context: RequestContext) throws(AWSErrorReply) -> ByteBuffer {
        let resource = try resource(try p.required("ResourceARN", p.string), member: "ResourceARN", in: context)
        var writer = JSONObjectWriter()
        writer.field("Policy", try withAttributes(of: resource) { attributes, _ in attributes.policy ?? "{}" })
        return writer.finish()
    }

    mutating func deleteResourcePolicy(_ p: RequestParameters, in context: RequestContext) throws(AWSErrorReply) -> ByteBuffer {
        let resource = try resource(try p.required("ResourceARN", p.string), member: "ResourceARN", in: context)
        let account = self.account
        try withAttributes(of: resource) { attributes, label throws(AWSErrorReply) in
            guard attributes.policy != nil else {
                throw AWSErrorReply(status: 400, type: "ResourceNotFoundException", message: "No resource policy found for \(label) under account \(account).")
            }
            attributes.policy = nil
        }
        return ByteBuffer(string: "{}")
    }
}
