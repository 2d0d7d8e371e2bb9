import Foundation
import NIOCore

extension KinesisClient {
    /// Writes up to 500 records in one request.
    ///
    /// The answer has one entry per record, in order; a failed record (throttled or an internal failure) does not
    /// fail the call, so check each entry. The client does not retry failed entries: that is the producer's job,
    /// which knows the records' deadlines.
    @inlinable
    public func putRecords(_ entries: some Collection<some PutRecordsEntryFields>, stream: StreamIdentifier) async throws -> PutRecordsResult {
        guard (1...500).contains(entries.count) else {
            throw KinesisError(
                code: .invalidRequest,
                message: "PutRecords takes 1 to 500 records; got \(entries.count)",
                operation: "PutRecords",
                retryClass: .fatal
            )
        }
        return try await putRecordsOutcomes(body: PutRecordsBody.encode(entries, stream: stream), recordCount: entries.count).result
    }

    /// Sends a PutRecords body written by ``PutRecordsBody`` for `recordCount` records, 1 to 500 (checked against
    /// the answer); the answer in the form the producer reads without a String per record.
    @usableFromInline
    package func putRecordsOutcomes(body: ByteBuffer, recordCount: Int) async throws -> PutRecordsOutcomes {
        try PutRecordsOutcomes.decode(answer: try await send("PutRecords", body: body), recordCount: recordCount)
    }

    /// Writes one record. `sequenceNumberForOrdering` (the previous record's sequence number for the same key)
    /// makes Kinesis assign strictly increasing sequence numbers.
    public func putRecord(
        _ entry: PutRecordsEntry,
        stream: StreamIdentifier,
        sequenceNumberForOrdering: String? = nil
    ) async throws -> PutRecordResult {
        var writer = JSONObjectWriter()
        writer.stream(stream)
        var body = writer.finish()
        // Splice the data in without a detour through String.
        body.moveWriterIndex(to: body.writerIndex - 1)
        if body.readableBytes > 1 { body.writeInteger(UInt8(ascii: ",")) }
        PutRecordsBody.writeFields(of: entry, into: &body)
        if let sequenceNumberForOrdering {
            body.writeStaticString(",\"SequenceNumberForOrdering\":")
            body.writeJSONString(sequenceNumberForOrdering)
        }
        body.writeInteger(UInt8(ascii: "}"))
        return try await call("PutRecord", body: body, as: PutRecordResult.self)
    }

    /// Returns an iterator for reading one shard from `position`.
    public func getShardIterator(stream: StreamIdentifier, shardID: String, position: ShardIteratorPosition) async throws -> String {
        var writer = JSONObjectWriter()
        writer.stream(stream)
        writer.field("ShardId", shardID)
        writer.field("ShardIteratorType", position.type)
        writer.field("StartingSequenceNumber", position.sequenceNumber)
        writer.field("Timestamp", epochSeconds: position.timestamp?.timeIntervalSince1970)
        struct Answer: Decodable { var ShardIterator: String? }
        let answer = try await call("GetShardIterator", body: writer.finish(), as: Answer.self)
        guard let iterator = answer.ShardIterator else {
            throw KinesisError(
                code: .invalidResponse,
                message: "GetShardIterator answered without ShardIterator",
                operation: "GetShardIterator",
                httpStatus: 200,
                retryClass: .fatal
            )
        }
        return iterator
    }

    /// Reads records from a shard iterator (pass the iterator back exactly as received).
    public func getRecords(shardIterator: String, limit: Int? = nil, streamARN: String? = nil) async throws -> GetRecordsResult {
        var writer = JSONObjectWriter()
        writer.field("ShardIterator", shardIterator)
        writer.field("Limit", limit)
        writer.field("StreamARN", streamARN)
        return try await call("GetRecords", body: writer.finish(), as: GetRecordsResult.self)
    }
}

extension PutRecordsResult {
    /// Reads the 200 answer to a PutRecords call of `recordCount` records (see ``PutRecordsOutcomes/decode(answer:recordCount:)``).
    package static func decode(answer: ByteBuffer, recordCount: Int) throws(KinesisError) -> PutRecordsResult {
        try PutRecordsOutcomes.decode(answer: answer, recordCount: recordCount).result
    }
}
