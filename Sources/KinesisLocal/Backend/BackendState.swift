import Backoff
import DequeModule
import Foundation
import KinesisAPI
import NIOCore

/// Everything KinesisLocal stores: streams, shards, records and counters. A plain value mutated under one lock by
/// ``LocalBackend``; every operation is a method here, so the Kinesis behaviour can be tested without sockets.
struct BackendState {
    var account: String
    /// The region of the configured streams, the admin endpoint and the Swift API.
    var defaultRegion: String
    var streams: [StreamAddress: LocalStream] = [:]
    var shardLimits: ShardLimits
    var accountLimits: KinesisLocal.Configuration.AccountLimits
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
    /// When each consumer last subscribed to each shard (`ARN shardId`): AWS refuses another call within 5 s.
    var subscriptionStarts: [String: Double] = [:]

    init(configuration: KinesisLocal.Configuration) {
        account = configuration.account
        defaultRegion = configuration.region
        shardLimits = ShardLimits(
            recordsPerSecond: configuration.shardLimits.recordsPerSecond,
            bytesPerSecond: configuration.shardLimits.bytesPerSecond,
            enabled: configuration.shardLimits.enabled
        )
        accountLimits = configuration.accountLimits
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

    /// A stream of the default region, for the Swift API and the admin endpoint.
    func defaultAddress(_ name: String) -> StreamAddress { StreamAddress(region: defaultRegion, name: name) }

    func arn(_ address: StreamAddress) -> String { "arn:aws:kinesis:\(address.region):\(account):stream/\(address.name)" }

    /// The stream a request names by `StreamName` or `StreamARN`, in the region the request was signed for.
    func streamAddress(_ name: String?, arn: String?, in context: RequestContext) throws(AWSErrorReply) -> StreamAddress {
        if let arn {
            let parsed = try parseARN(arn, member: "StreamARN", in: context)
            guard case .stream(let streamName) = parsed.resource else {
                throw .invalidArgument("StreamARN \(arn) names a consumer, not a stream.")
            }
            if let name, name != streamName {
                throw .invalidArgument("StreamName \(name) and StreamARN \(arn) name different streams.")
            }
            return StreamAddress(region: parsed.region, name: streamName)
        }
        if let name { return StreamAddress(region: context.region, name: name) }
        throw .invalidArgument("Either StreamName or StreamARN must be provided.")
    }

    /// A resource ARN of this account and of the request's region (AWS answers for its own region only).
    func parseARN(_ text: String, member: String, in context: RequestContext) throws(AWSErrorReply) -> KinesisARN {
        guard let parsed = KinesisARN(text) else {
            throw .validation(
                "1 validation error detected: Value '\(text.prefix(300))' at '\(member.prefix(1).lowercased() + member.dropFirst())' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+"
            )
        }
        guard parsed.region == context.region else {
            throw .invalidArgument(
                "\(member) \(text) is in region \(parsed.region), but the request was signed for \(context.region): sign it for \(parsed.region)."
            )
        }
        guard parsed.account == account else {
            throw AWSErrorReply(
                status: 400,
                type: "AccessDeniedException",
                message: "\(member) \(text) belongs to account \(parsed.account); this endpoint serves account \(account) only."
            )
        }
        return parsed
    }

    /// The address of a stream that exists.
    func existingStream(_ name: String?, arn: String?, in context: RequestContext) throws(AWSErrorReply) -> StreamAddress {
        let address = try streamAddress(name, arn: arn, in: context)
        guard streams[address] != nil else { throw notFound(address) }
        return address
    }

    /// AWS's "not found", with a hint when the name exists in another region: the usual cause against a local
    /// server is a client signing for another region than the one the streams were created in.
    func notFound(_ address: StreamAddress) -> AWSErrorReply {
        var message = "Stream \(address.name) under account \(account) not found."
        let elsewhere = streams.keys.filter { $0.name == address.name && $0.region != address.region }.map(\.region).sorted()
        if !elsewhere.isEmpty {
            message += " (KinesisLocal has a stream \(address.name) in \(elsewhere.joined(separator: ", ")); this request was signed for \(address.region).)"
        }
        return AWSErrorReply(status: 400, type: "ResourceNotFoundException", message: message)
    }

    /// Runs `body` on a stream that exists; the stream is taken out of the dictionary meanwhile, so changing it
    /// copies nothing.
    mutating func withStream<Result>(
        _ address: StreamAddress,
        _ body: (inout LocalStream) throws(AWSErrorReply) -> Result
    ) throws(AWSErrorReply) -> Result {
        guard var stream = streams.removeValue(forKey: address) else { throw notFound(address) }
        defer { streams[address] = stream }
        return try body(&stream)
    }

    mutating func createStream(
        _ address: StreamAddress,
        shardCount: Int?,
        mode: String?,
        maxRecordSizeKiB: Int?,
        tags: [String: String] = [:],
        enforcingLimits: Bool = true,
        now: Double
    ) throws(AWSErrorReply) {
        let name = address.name
        guard !name.isEmpty, name.count <= 128, name.unicodeScalars.allSatisfy(Self.isNameCharacter) else {
            throw .validation("1 validation error detected: Value '\(name)' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
        }
        guard streams[address] == nil else {
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
        if enforcingLimits {
            try checkShardLimit(adding: count, in: address.region)
            if mode == "ON_DEMAND" { try checkOnDemandLimit(in: address.region) }
            try Self.validateTags(tags, existing: [:], of: "stream \(name)", account: account)
        }
        var stream = LocalStream(name: name, arn: arn(address), mode: mode, createdAt: now, maxRecordSizeKiB: recordSize)
        stream.attributes.tags = tags
        stream.addEvenShards(count: count, now: now, shardLimits: shardLimits)
        streams[address] = stream
    }

    mutating func deleteStream(_ address: StreamAddress) {
        streams[address] = nil
    }

    /// Open shards of every stream in `region`, against the account's shard limit there.
    func openShardCount(in region: String) -> Int {
        streams.reduce(0) { $0 + ($1.key.region == region ? $1.value.openShardIndices.count : 0) }
    }

    /// AWS's shard quota: refused when the region's open shards plus `added` would pass it.
    func checkShardLimit(adding added: Int, in region: String) throws(AWSErrorReply) {
        let limit = accountLimits.shardLimit(in: region)
        let current = openShardCount(in: region)
        guard current + added > limit, added > 0 else { return }
        throw AWSErrorReply(
            status: 400,
            type: "LimitExceededException",
            message: "This request would exceed the shard limit for the account \(account) in \(region). Current shard count for the account: \(current). Limit: \(limit). Number of additional shards that would have resulted from this request: \(added). Refer to the AWS Service Limits page (https://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits."
        )
    }

    /// Streams in on-demand mode in `region`, against the account's quota there.
    func onDemandStreamCount(in region: String) -> Int {
        streams.reduce(0) { $0 + ($1.key.region == region && $1.value.mode == "ON_DEMAND" ? 1 : 0) }
    }

    /// AWS's quota of on-demand streams per account and region.
    func checkOnDemandLimit(in region: String) throws(AWSErrorReply) {
        let onDemand = onDemandStreamCount(in: region)
        guard onDemand >= accountLimits.onDemandStreams else { return }
        throw AWSErrorReply(
            status: 400,
            type: "LimitExceededException",
            message: "This request would exceed the on-demand stream limit for the account \(account) in \(region). Current on-demand stream count: \(onDemand). Limit: \(accountLimits.onDemandStreams)."
        )
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
        while stream.storedRecords > retention.maxRecords || stream.storedBytes > retention.maxBytes {
            guard stream.dropOldest() else { break }
        }
        return counter
    }
}
