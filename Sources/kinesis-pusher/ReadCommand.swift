import ArgumentParser
import AsyncHTTPClient
import Foundation
import KinesisAPI
import KinesisAggregation

/// `kinesis-pusher read`: every record of a stream, as NDJSON, the way a KCL consumer would see it.
struct ReadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read",
        abstract: "Print every record of a stream (all shards, oldest first) as NDJSON on standard output.",
        discussion: """
            Shards are read in shard-id order (parents before their children), each from the trim horizon to its \
            end. With --deaggregate, KPL aggregates are unpacked as the KCL does: an aggregate holding a record \
            outside its shard's hash range is dropped whole (and counted). A summary goes to standard error.
            """
    )

    enum DataFormat: String, ExpressibleByArgument, CaseIterable {
        case text, base64
    }

    @OptionGroup var aws: AWSOptions

    @Flag(help: "Unpack KPL aggregated records (as the KCL does).")
    var deaggregate = false

    @Option(help: "How to print record data: text (UTF-8; invalid bytes replaced) or base64.")
    var data: DataFormat = .text

    @Option(help: "Write the summary as JSON to this file as well.")
    var summaryFile: String?

    /// One line of output.
    struct Line: Encodable {
        var shard_id: String
        var sequence_number: String
        var sub_sequence_number: Int?
        var partition_key: String
        var explicit_hash_key: String?
        var data: String
    }

    /// What was read; the field names are an interface.
    struct Summary: Encodable {
        var shards = 0
        var kinesis_records = 0
        var user_records = 0
        var aggregates = 0
        /// Aggregates the KCL drops whole (a record outside the shard's range).
        var dropped_aggregates = 0
        var dropped_records = 0
    }

    func run() async throws {
        let logger = aws.makeLogger()
        let caBundle = (try? aws.resolveConfiguration())?.http.caBundlePath  // a resolution error is makeClient's to report
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: KinesisClient.httpConfiguration(.init(caBundlePath: caBundle)))
        var summary = Summary()
        do {
            let client = try aws.makeClient(httpClient: httpClient, logger: logger)
            let stream = aws.streamIdentifier
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let shards = try await client.listShards(stream: stream).sorted { $0.shardID < $1.shardID }
            summary.shards = shards.count
            var output = Data()
            for shard in shards {
                let range = shard.hashKeyRange.startingHashKey.value...shard.hashKeyRange.endingHashKey.value
                try await client.readShard(shard.shardID, stream: stream) { records in
                    for stored in records {
                        summary.kinesis_records += 1
                        var line = Line(
                            shard_id: shard.shardID,
                            sequence_number: stored.sequenceNumber,
                            partition_key: stored.partitionKey,
                            data: format(stored.data)
                        )
                        let view = deaggregate ? KinesisAggregation.consume(stored.data, shardHashRange: range) : .plain
                        switch view {
                        case .plain:
                            summary.user_records += 1
                            output.append(try encoder.encode(line))
                            output.append(0x0A)
                        case .aggregate(let members):
                            summary.aggregates += 1
                            for (index, member) in members.enumerated() {
                                summary.user_records += 1
                                line.sub_sequence_number = index
                                line.partition_key = member.partitionKey
                                line.explicit_hash_key = member.explicitHashKey
                                line.data = format(member.data)
                                output.append(try encoder.encode(line))
                                output.append(0x0A)
                            }
                        case .dropped(let members):
                            summary.dropped_aggregates += 1
                            summary.dropped_records += members.count
                        }
                    }
                    if output.count > 1 << 20 {
                        try StandardOutput.write(output)
                        output.removeAll(keepingCapacity: true)
                    }
                }
            }
            try StandardOutput.write(output)
            try await httpClient.shutdown()
        } catch is StandardOutput.Closed {
            // The reader has all it wanted (`read | head`): stop quietly.
            try? await httpClient.shutdown()
            return
        } catch {
            try? await httpClient.shutdown()
            FileHandle.standardError.write(Data("error: \(FailureReason.describe(error, stream: aws.stream, endpoint: aws.endpoint))\n".utf8))
            throw ExitCode.failure
        }
        var text = "read \(summary.kinesis_records) Kinesis records from \(summary.shards) shards: \(summary.user_records) records"
        if deaggregate {
            text += " (\(summary.aggregates) aggregates); \(summary.dropped_aggregates) aggregates with \(summary.dropped_records) records dropped"
                + " as the KCL does (a record outside the shard's hash range)"
        }
        FileHandle.standardError.write(Data((text + "\n").utf8))
        if let summaryFile { try Data(try jsonReport(summary).utf8).write(to: URL(fileURLWithPath: summaryFile)) }
    }

    private func format(_ bytes: [UInt8]) -> String {
        switch data {
        case .text: String(decoding: bytes, as: UTF8.self)
        case .base64: Data(bytes).base64EncodedString()
        }
    }
}
