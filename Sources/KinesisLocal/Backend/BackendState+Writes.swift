import Crypto
import KinesisAPI
import NIOCore

extension BackendState {
    /// PutRecords: validates like AWS, routes each record to its open shard, applies per-record faults and the
    /// per-shard limits, and answers with one entry per record in request order.
    mutating func putRecords(_ body: ByteBuffer, in context: RequestContext) throws(AWSErrorReply) -> ByteBuffer {
        let now = context.now
        let request = try parsePut(body, single: false)
        guard (1...500).contains(request.records.count) else {
            throw .validation(
                "1 validation error detected: Value '\(request.records.count)' at 'records' failed to satisfy constraint: "
                    + "Member must have length \(request.records.isEmpty ? "greater than or equal to 1" : "less than or equal to 500")"
            )
        }
        let address = try existingStream(request.streamName, arn: request.streamARN, in: context)
        var stream = streams.removeValue(forKey: address)!
        defer { streams[address] = stream }
        let hashes = try validate(request, stream: stream)
        stream.trimExpired(now: now)

        var response = ByteBuffer()
        response.reserveCapacity(64 + request.records.count * 110)
        response.writeStaticString("{\"Records\":[")
        var failed = 0
        for (index, record) in request.records.enumerated() {
            if index > 0 { response.writeInteger(UInt8(ascii: ",")) }
            switch admit(record, hash: hashes[index], stream: &stream, now: now) {
            case .stored(let shard, let counter):
                response.writeStaticString("{\"SequenceNumber\":\"")
                LocalStream.writeSequenceNumber(shardOrdinal: stream.shards[shard].ordinal, counter: counter, into: &response)
                response.writeStaticString("\",\"ShardId\":\"")
                response.writeString(stream.shards[shard].id)
                response.writeStaticString("\"}")
            case .failed(let code, let message):
                failed += 1
                response.writeStaticString("{\"ErrorCode\":\"")
                response.writeString(code)
                response.writeStaticString("\",\"ErrorMessage\":")
                response.writeJSONString(message)
                response.writeInteger(UInt8(ascii: "}"))
            }
        }
        response.writeStaticString("],\"FailedRecordCount\":")
        response.writeString(String(failed))
        response.writeStaticString(",\"EncryptionType\":\"")
        response.writeString(stream.encryptionType)
        response.writeStaticString("\"}")
        return response
    }

    /// PutRecord: one record; a throttle or internal failure is the whole answer's error, as Kinesis reports it.
    ///
    /// `SequenceNumberForOrdering` is checked for shape only: every record gets a counter above all issued before
    /// it, so the new sequence number is above any this stream handed out, as the ordering asks.
    mutating func putRecord(_ body: ByteBuffer, in context: RequestContext) throws(AWSErrorReply) -> ByteBuffer {
        let now = context.now
        let request = try parsePut(body, single: true)
        let address = try existingStream(request.streamName, arn: request.streamARN, in: context)
        var stream = streams.removeValue(forKey: address)!
        defer { streams[address] = stream }
        let hashes = try validate(request, stream: stream)
        if let ordering = request.sequenceNumberForOrdering, !Self.isSequenceNumber(ordering) {
            throw .validation(
                "1 validation error detected: Value '\(ordering.prefix(300))' at 'sequenceNumberForOrdering' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,128})"
            )
        }
        stream.trimExpired(now: now)
        switch admit(request.records[0], hash: hashes[0], stream: &stream, now: now) {
        case .stored(let shard, let counter):
            var writer = JSONObjectWriter()
            writer.field("ShardId", stream.shards[shard].id)
            writer.field("SequenceNumber", LocalStream.sequenceNumber(shardOrdinal: stream.shards[shard].ordinal, counter: counter))
            writer.field("EncryptionType", stream.encryptionType)
            return writer.finish()
        case .failed(let code, let message):
            throw AWSErrorReply(status: code == "InternalFailure" ? 500 : 400, type: code, message: message)
        }
    }

    /// The shape AWS requires of a sequence number: `0`, or up to 129 digits without a leading zero.
    static func isSequenceNumber(_ text: String) -> Bool {
        let digits = text.utf8
        guard (1...129).contains(digits.count), digits.allSatisfy({ (0x30...0x39).contains($0) }) else { return false }
        return digits.count == 1 || digits.first != 0x30
    }

    private func parsePut(_ body: ByteBuffer, single: Bool) throws(AWSErrorReply) -> PutRecordsRequest {
        do {
            return try PutRecordsRequest.parse(body, single: single)
        } catch {
            switch error {
            case .serialization(let detail):
                throw .serialization("The request body is not valid JSON: \(detail)")
            case .missingMember(let member):
                throw .validation("1 validation error detected: Value null at '\(member)' failed to satisfy constraint: Member must not be null")
            case .invalidBase64(let index):
                throw .serialization("Record \(index) Data is not valid base64 (standard alphabet with padding)")
            }
        }
    }

    /// AWS's checks, in AWS's order: key length, record size, explicit hash key, request size. Returns each
    /// record's hash key.
    private func validate(_ request: PutRecordsRequest, stream: LocalStream) throws(AWSErrorReply) -> [UInt128] {
        let maxRecordBytes = stream.maxRecordSizeKiB * 1024
        var total = 0
        var hashes: [UInt128] = []
        hashes.reserveCapacity(request.records.count)
        for (index, record) in request.records.enumerated() {
            let keyLength = record.partitionKey.unicodeScalars.count
            guard (1...256).contains(keyLength) else {
                throw .validation(
                    "1 validation error detected: Value '\(record.partitionKey.prefix(300))' at 'records.\(index + 1).member.partitionKey' "
                        + "failed to satisfy constraint: Member must have length \(keyLength == 0 ? "greater than or equal to 1" : "less than or equal to 256")"
                )
            }
            let size = record.dataLength + record.partitionKey.utf8.count
            guard size <= maxRecordBytes else {
                throw .validation(
                    "1 validation error detected: Value at 'records.\(index + 1).member.data' failed to satisfy constraint: "
                        + "Member must have length less than or equal to \(maxRecordBytes) (data plus partition key is \(size) bytes)"
                )
            }
            total += size
            if let explicit = record.explicitHashKey {
                guard let key = HashKey(decimal: explicit) else {
                    throw .invalidArgument(
                        "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was \(explicit)"
                    )
                }
                hashes.append(key.value)
            } else {
                hashes.append(Self.md5Hash(record.partitionKey))
            }
        }
        guard total <= maxRequestBytes else {
            throw .invalidArgument("Records size exceeds \(maxRequestBytes / (1024 * 1024)) MB limit")
        }
        return hashes
    }

    enum Admission {
        case stored(shard: Int, counter: UInt64)
        case failed(code: String, message: String)
    }

    private mutating func admit(_ record: PutRecordsRequest.Record, hash: UInt128, stream: inout LocalStream, now: Double) -> Admission {
        guard let shard = stream.route(hash) else {
            return .failed(code: "InternalFailure", message: "Internal service failure.")
        }
        if random.chance(faults.recordInternalFailureRate) {
            return .failed(code: "InternalFailure", message: "Internal service failure.")
        }
        if !poisonBase64.isEmpty, poisonBase64.contains(String(buffer: record.base64)) {
            return .failed(code: "InternalFailure", message: "Internal service failure.")
        }
        let throttle = Admission.failed(
            code: "ProvisionedThroughputExceededException",
            message: "Rate exceeded for shard \(stream.shards[shard].id) in stream \(stream.name) under account \(account)."
        )
        if random.chance(faults.recordThrottleRate) {
            stream.shards[shard].throttled += 1
            return throttle
        }
        if shardLimits.enabled {
            let size = Double(record.dataLength + record.partitionKey.utf8.count)
            stream.shards[shard].recordsBucket.refill(now: now)
            stream.shards[shard].bytesBucket.refill(now: now)
            guard stream.shards[shard].recordsBucket.canTake(1), stream.shards[shard].bytesBucket.canTake(size) else {
                stream.shards[shard].throttled += 1
                return throttle
            }
            stream.shards[shard].recordsBucket.take(1)
            stream.shards[shard].bytesBucket.take(size)
        }
        return .stored(shard: shard, counter: store(record, in: &stream, shard: shard, now: now))
    }

    /// MD5 of the key's UTF-8 bytes as a big-endian 128-bit integer, without an intermediate array.
    static func md5Hash(_ key: String) -> UInt128 {
        var key = key
        let digest = key.withUTF8 { Insecure.MD5.hash(data: UnsafeRawBufferPointer($0)) }
        return digest.withUnsafeBytes { UInt128(bigEndian: $0.loadUnaligned(as: UInt128.self)) }
    }
}
