import Backoff
import DequeModule
import Foundation
import KinesisAPI
import NIOCore

/// Everything KinesisLocal stores: streams, shards, records and counters. A plain value mutated under one lock by
/// ``LocalBackend``; every operation is a method here, so the Kinesis behaviour can be tested without sockets.
struct BackendState {
    var account: String
    var region: String
    var streams: [String: LocalStream] = [:]
    var shardLimits: ShardLimits
    var maxRequestBytes: Int
    var retention: KinesisLocal.Configuration.Retention
    var random: SplitMix64
    var faults: KinesisLocal.Faults {
        didSet { poisonBase64 = Self.base64Set(faults.poisonRecords) }
    }
    /// ``KinesisLocal/Faults/poisonRecords`` as the base64 text requests carry, so a record is checked without
    /// decoding it.
    private(set) var poisonBase64: Set<String> = []
    var requestCount = 0
    /// Requests seen per access key id, for the "ExpiredTokenException after N requests" fault.
    var requestsPerAccessKey: [String: Int] = [:]
    /// Requests answered `ExpiredTokenException` by that fault.
    var expiredTokenCount = 0

    init(configuration: KinesisLocal.Configuration) {
        account = configuration.account
        region = configuration.region
        shardLimits = ShardLimits(
            recordsPerSecond: configuration.shardLimits.recordsPerSecond,
            bytesPerSecond: configuration.shardLimits.bytesPerSecond,
            enabled: configuration.shardLimits.enabled
        )
        maxRequestBytes = configuration.maxRequestBytes
        retention = configuration.retention
        faults = configuration.faults
        poisonBase64 = Self.base64Set(configuration.faults.poisonRecords)
        random = SplitMix64(seed: configuration.faults.seed)
    }

    static func base64Set(_ texts: [String]) -> Set<String> {
        Set(texts.map { Data($0.utf8).base64EncodedString() })
    }

    /// Puts `faults` in force and reseeds the generator. The per-key request counts behind
    /// ``KinesisLocal/Faults/expiredTokenAfterRequests`` start again only when that limit changes, so toggling
    /// another fault (a latency spike) does not give every access key a fresh lease.
    mutating func replaceFaults(_ next: KinesisLocal.Faults) {
        if next.expiredTokenAfterRequests != faults.expiredTokenAfterRequests { requestsPerAccessKey = [:] }
        faults = next
        random = SplitMix64(seed: next.seed)
    }

    func arn(_ name: String) -> String { "arn:aws:kinesis:\(region):\(account):stream/\(name)" }

    /// The stream a request names by `StreamName` or `StreamARN`.
    func streamName(_ name: String?, arn: String?) throws(AWSErrorReply) -> String {
        if let name { return name }
        if let arn {
            guard let slash = arn.range(of: ":stream/") else {
                throw .invalidArgument("StreamARN \(arn) is not a Kinesis stream ARN.")
            }
            return String(arn[slash.upperBound...])
        }
        throw .invalidArgument("Either StreamName or StreamARN must be provided.")
    }

    func existingStream(_ name: String?, arn: String?) throws(AWSErrorReply) -> String {
        let name = try streamName(name, arn: arn)
        guard streams[name] != nil else { throw .resourceNotFound(stream: name, account: account) }
        return name
    }

    mutating func createStream(name: String, shardCount: Int?, mode: String?, maxRecordSizeKiB: Int?, now: Double) throws(AWSErrorReply) {
        guard !name.isEmpty, name.count <= 128,
            name.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "_.-".unicodeScalars.contains($0)) })
        else {
            throw .validation("1 validation error detected: Value '\(name)' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
        }
        guard streams[name] == nil else {
            throw .resourceInUse("Stream \(name) under account \(account) already exists.")
        }
        let mode = mode ?? "PROVISIONED"
        let count: Int
        switch mode {
        case "ON_DEMAND":
            count = shardCount ?? 4
        case "PROVISIONED":
            guard let shardCount else { throw .invalidArgument("ShardCount is required for PROVISIONED streams.") }
            count = shardCount
        default:
            throw .validation("1 validation error detected: Value '\(mode)' at 'streamModeDetails.streamMode' failed to satisfy constraint: Member must satisfy enum value set: [ON_DEMAND, PROVISIONED]")
        }
        guard (1...10_000).contains(count) else {
            throw .validation("1 validation error detected: Value '\(count)' at 'shardCount' failed to satisfy constraint: Member must have value between 1 and 10000")
        }
        let recordSize = maxRecordSizeKiB ?? 1024
        guard (1024...10240).contains(recordSize) else {
            throw .validation("1 validation error detected: Value '\(recordSize)' at 'maxRecordSizeInKiB' failed to satisfy constraint: Member must have value between 1024 and 10240")
        }
        var stream = LocalStream(name: name, arn: arn(name), mode: mode, createdAt: now, maxRecordSizeKiB: recordSize)
        stream.addEvenShards(count: count, now: now, shardLimits: shardLimits)
        streams[name] = stream
    }

    mutating func deleteStream(_ name: String) {
        streams[name] = nil
    }

    /// Uniform scaling: every open shard closes, `target` children split the hash ring evenly.
    mutating func updateShardCount(stream name: String, target: Int, now: Double) throws(AWSErrorReply) -> Int {
        guard var stream = streams[name] else { throw .resourceNotFound(stream: name, account: account) }
        guard (1...10_000).contains(target) else {
            throw .validation("1 validation error detected: Value '\(target)' at 'targetShardCount' failed to satisfy constraint: Member must have value between 1 and 10000")
        }
        let parents = stream.openShardIndices.map { stream.shards[$0] }
        let current = parents.count
        for index in stream.openShardIndices {
            stream.shards[index].endingCounter = stream.nextCounter
        }
        stream.nextCounter += 1
        stream.addEvenShards(count: target, now: now, shardLimits: shardLimits, parents: parents)
        streams[name] = stream
        return current
    }

    /// Stores a record in its stream (already routed), trimming the oldest records past the retention cap.
    func store(_ record: PutRecordsRequest.Record, in stream: inout LocalStream, shard: Int, now: Double) -> UInt64 {
        let counter = stream.nextCounter
        stream.nextCounter += 1
        stream.shards[shard].records.append(
            LocalRecord(
                counter: counter,
                arrival: now,
                partitionKey: record.partitionKey,
                base64: record.base64,
                dataLength: record.dataLength
            )
        )
        stream.shards[shard].accepted += 1
        stream.shards[shard].acceptedBytes += record.dataLength + record.partitionKey.utf8.count
        stream.arrivalOrder.append(Int32(shard))
        stream.storedRecords += 1
        stream.storedBytes += record.dataLength
        while stream.storedRecords > retention.maxRecords || stream.storedBytes > retention.maxBytes,
            let oldest = stream.arrivalOrder.popFirst()
        {
            if let dropped = stream.shards[Int(oldest)].records.popFirst() {
                stream.storedRecords -= 1
                stream.storedBytes -= dropped.dataLength
            }
        }
        return counter
    }
}
