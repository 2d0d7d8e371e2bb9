import Foundation
import Logging
import NIOCore

extension KinesisClient {
    /// Status, mode, open shard count and record size limit of a stream: the cheapest way to learn the write budget.
    public func describeStreamSummary(stream: StreamIdentifier) async throws -> StreamSummary {
        var writer = JSONObjectWriter()
        writer.stream(stream)
        struct Answer: Decodable { var StreamDescriptionSummary: StreamSummary }
        return try await call("DescribeStreamSummary", body: writer.finish(), as: Answer.self).StreamDescriptionSummary
    }

    /// Lists the shards of a stream, following every page.
    ///
    /// Follow-up pages send only `NextToken` (and `MaxResults`), as AWS requires. With ``ShardFilter/atLatest``
    /// closed shards are also dropped on this side, so a service that ignores the filter still yields only the
    /// open shards a producer may route to. An expired page token restarts the listing once. The listing is
    /// bounded by ``Configuration/listing``: past its pages, shards or time, or on a page token seen before, it
    /// ends with an `InvalidResponse` (or `Timeout`) error.
    ///
    /// - Parameters:
    ///   - filter: Which shards; `nil` lists open and closed shards in retention.
    ///   - pageSize: `MaxResults` per page (1–10000; AWS returns at most 1000).
    public func listShards(stream: StreamIdentifier, filter: ShardFilter? = nil, pageSize: Int? = nil) async throws -> [Shard] {
        try await withListingDeadline("ListShards", stream: stream) { [self] in
            do {
                return try await listAllShards(stream: stream, filter: filter, pageSize: pageSize)
            } catch let error as KinesisError where error.code == .expiredNextToken {
                logger.notice("ListShards page token expired; listing again", metadata: ["kinesis.stream": "\(stream)"])
                return try await listAllShards(stream: stream, filter: filter, pageSize: pageSize)
            }
        }
    }

    private func listAllShards(stream: StreamIdentifier, filter: ShardFilter?, pageSize: Int?) async throws -> [Shard] {
        struct Page: Decodable {
            var Shards: [Shard]?
            var NextToken: String?
        }
        var shards: [Shard] = []
        var nextToken: String?
        var bounds = ListingBounds(configuration.listing, operation: "ListShards", stream: stream)
        repeat {
            var writer = JSONObjectWriter()
            if let token = nextToken {
                writer.field("NextToken", token)
                if configuration.repeatsStreamOnListShardsPages { writer.stream(stream) }
            } else {
                writer.stream(stream)
                if let filter {
                    writer.field("ShardFilter") { object in
                        object.field("Type", filter.type)
                        object.field("ShardId", filter.shardID)
                        object.field("Timestamp", epochSeconds: filter.timestamp?.timeIntervalSince1970)
                    }
                }
            }
            writer.field("MaxResults", pageSize)
            let page = try await call("ListShards", body: writer.finish(), as: Page.self)
            shards += page.Shards ?? []
            nextToken = page.NextToken
            try bounds.page(shards: shards.count, next: nextToken)
        } while nextToken != nil
        if filter?.type == ShardFilter.atLatest.type {
            shards.removeAll { !$0.isOpen }
        }
        return shards
    }

    /// Describes a stream with all its shards (legacy API, 10 TPS per account; prefer ``listShards(stream:filter:pageSize:)``
    /// and ``describeStreamSummary(stream:)``). Bounded like ``listShards(stream:filter:pageSize:)``; a page that
    /// would resume from a shard already resumed from is an `InvalidResponse` error.
    public func describeStream(stream: StreamIdentifier) async throws -> StreamDescription {
        try await withListingDeadline("DescribeStream", stream: stream) { [self] in
            var shards: [Shard] = []
            var exclusiveStart: String?
            var bounds = ListingBounds(configuration.listing, operation: "DescribeStream", stream: stream)
            while true {
                var writer = JSONObjectWriter()
                writer.stream(stream)
                writer.field("ExclusiveStartShardId", exclusiveStart)
                let page = try await call("DescribeStream", body: writer.finish(), as: DescribeStreamPage.self).StreamDescription
                shards += page.Shards
                guard page.HasMoreShards, let last = page.Shards.last else {
                    return StreamDescription(
                        streamName: page.StreamName,
                        streamARN: page.StreamARN,
                        streamStatus: page.StreamStatus,
                        streamMode: page.StreamModeDetails?.StreamMode,
                        retentionPeriodHours: page.RetentionPeriodHours,
                        shards: shards
                    )
                }
                try bounds.page(shards: shards.count, next: last.shardID)
                exclusiveStart = last.shardID
            }
        }
    }

    /// Runs a listing under ``Configuration/Listing/timeout``: when it runs out, the listing (and its request in
    /// flight) is cancelled and a `Timeout` error thrown.
    private func withListingDeadline<T: Sendable>(
        _ operation: String,
        stream: StreamIdentifier,
        _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let timeout = configuration.listing.timeout
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                throw KinesisError(
                    code: .timeout,
                    message: "\(operation) of stream \(stream) did not finish within \(timeout) (Configuration.listing.timeout)",
                    operation: operation
                )
            }
            return value
        }
    }

    /// Creates a stream; it starts `CREATING` (see ``waitUntilActive(stream:timeout:pollInterval:)``).
    ///
    /// - Parameters:
    ///   - shardCount: Required for provisioned streams; leave `nil` for on-demand.
    ///   - mode: `nil` lets the service default (provisioned).
    ///   - maxRecordSizeInKiB: 1024–10240; `nil` keeps 1 MiB.
    public func createStream(
        name: String,
        shardCount: Int? = nil,
        mode: StreamMode? = nil,
        maxRecordSizeInKiB: Int? = nil,
        tags: [String: String] = [:]
    ) async throws {
        var writer = JSONObjectWriter()
        writer.field("StreamName", name)
        writer.field("ShardCount", shardCount)
        if let mode {
            writer.field("StreamModeDetails") { $0.field("StreamMode", mode.rawValue) }
        }
        writer.field("MaxRecordSizeInKiB", maxRecordSizeInKiB)
        if !tags.isEmpty {
            writer.field("Tags") { object in
                for (key, value) in tags.sorted(by: { $0.key < $1.key }) { object.dynamicField(key, value) }
            }
        }
        _ = try await send("CreateStream", body: writer.finish())
    }

    /// Deletes a stream; it goes `DELETING`, then disappears.
    public func deleteStream(stream: StreamIdentifier, enforceConsumerDeletion: Bool? = nil) async throws {
        var writer = JSONObjectWriter()
        writer.stream(stream)
        writer.field("EnforceConsumerDeletion", enforceConsumerDeletion)
        _ = try await send("DeleteStream", body: writer.finish())
    }

    /// Polls DescribeStreamSummary until the stream is `ACTIVE`; throws a `ResourceInUseException`-coded error when
    /// `timeout` passes first.
    @discardableResult
    public func waitUntilActive(
        stream: StreamIdentifier,
        timeout: Duration = .seconds(180),
        pollInterval: Duration = .seconds(1)
    ) async throws -> StreamSummary {
        let deadline = ContinuousClock.now + timeout
        while true {
            let summary = try await describeStreamSummary(stream: stream)
            if summary.streamStatus == "ACTIVE" { return summary }
            guard ContinuousClock.now + pollInterval < deadline else {
                throw KinesisError(
                    code: .resourceInUse,
                    message: "stream \(stream) is still \(summary.streamStatus) after \(timeout)",
                    operation: "DescribeStreamSummary",
                    retryClass: .fatal
                )
            }
            try await Task.sleep(for: pollInterval)
        }
    }
}
