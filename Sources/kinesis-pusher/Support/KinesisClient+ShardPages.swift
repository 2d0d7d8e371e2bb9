import KinesisAPI

extension KinesisClient {
    /// Reads one shard from the trim horizon to its end, handing `body` each page of records in shard order. A
    /// closed shard ends with no next iterator; an open one once a read is empty and caught up.
    func readShard(
        _ shardID: String,
        stream: StreamIdentifier,
        page body: ([GetRecordsResult.Record]) throws -> Void
    ) async throws {
        var iterator: String? = try await getShardIterator(stream: stream, shardID: shardID, position: .trimHorizon)
        while let current = iterator {
            let page = try await getRecords(shardIterator: current, limit: 10_000)
            try body(page.records)
            iterator = page.records.isEmpty && (page.millisBehindLatest ?? 0) == 0 ? nil : page.nextShardIterator
        }
    }
}
