import ArgumentParser
import Foundation
import KinesisAPI
import KinesisAggregation
import NIOCore

/// KPL aggregation's CPU cost per user record, against sending the same records raw, in the same run.
struct AggregateBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aggregate",
        abstract: "Aggregation cost per user record: packing (size tracking + aggregate with MD5) and the PutRecords body, vs the raw body."
    )

    @Option(help: "User records per PutRecords body.")
    var records = 5000

    @Option(help: "Data bytes per record.")
    var size = 100

    @Option(help: "Distinct partition keys.")
    var keys = 1000

    @Option(help: "Largest aggregate in bytes.")
    var maxSize = 51_200

    @Option(help: "Seconds to run each contender (after a warm-up).")
    var seconds = 2.0

    @Flag(help: "Print a JSON report.")
    var json = false

    struct Report: Encodable {
        var records: Int
        var record_bytes: Int
        var aggregates: Int
        /// Size tracking while filling aggregates, then building them (protobuf + MD5).
        var packing_ns_per_record: Double
        /// Packing plus the PutRecords body of the aggregates.
        var aggregated_body_ns_per_record: Double
        /// The PutRecords body with every record raw (the baseline; only 500 fit a call).
        var raw_body_ns_per_record: Double
        var body_bytes_aggregated: Int
        var body_bytes_raw: Int
    }

    func run() throws {
        let users = (0..<records).map { index in
            KinesisAggregation.UserRecord(
                partitionKey: "partition-key-\(index % max(1, keys))",
                data: (0..<size).map { UInt8(truncatingIfNeeded: $0 &+ index) }
            )
        }
        let stream = StreamIdentifier.name("bench-stream")
        let pack = { () -> [[UInt8]] in
            var aggregates: [[UInt8]] = []
            var members: [KinesisAggregation.UserRecord] = []
            var estimator = KinesisAggregation.SizeEstimator()
            // As the Runner packs: the estimator that sized an aggregate also writes it.
            for user in users {
                if !members.isEmpty, estimator.size(adding: user) + members[0].partitionKey.utf8.count > maxSize {
                    aggregates.append(estimator.aggregate { members[$0].data })
                    members.removeAll(keepingCapacity: true)
                    estimator = KinesisAggregation.SizeEstimator()
                }
                estimator.add(user)
                members.append(user)
            }
            if !members.isEmpty { aggregates.append(estimator.aggregate { members[$0].data }) }
            return aggregates
        }
        let packed = pack()
        let aggregatedEntries = packed.map { PutRecordsEntry(data: $0, partitionKey: "a", explicitHashKey: "0") }
        let rawEntries = users.map { PutRecordsEntry(data: $0.data, partitionKey: $0.partitionKey) }
        let packing = medianNanoseconds(seconds: seconds) { pack().count }
        let aggregatedBody = medianNanoseconds(seconds: seconds) {
            let entries = pack().map { PutRecordsEntry(data: $0, partitionKey: "a", explicitHashKey: "0") }
            return PutRecordsBody.encode(entries, stream: stream).readableBytes
        }
        let rawBody = medianNanoseconds(seconds: seconds) { PutRecordsBody.encode(rawEntries, stream: stream).readableBytes }
        let count = Double(records)
        let report = Report(
            records: records,
            record_bytes: size,
            aggregates: packed.count,
            packing_ns_per_record: packing / count,
            aggregated_body_ns_per_record: aggregatedBody / count,
            raw_body_ns_per_record: rawBody / count,
            body_bytes_aggregated: PutRecordsBody.encode(aggregatedEntries, stream: stream).readableBytes,
            body_bytes_raw: PutRecordsBody.encode(rawEntries, stream: stream).readableBytes
        )
        if json {
            print(try jsonReport(report))
        } else {
            print("\(records) records × \(size) bytes, \(keys) keys → \(packed.count) aggregates of ≤ \(maxSize) bytes")
            print(String(format: "  packing (size tracking, protobuf, MD5): %7.1f ns/record", report.packing_ns_per_record))
            print(String(format: "  packing + PutRecords body:              %7.1f ns/record", report.aggregated_body_ns_per_record))
            print(String(format: "  raw PutRecords body (baseline):         %7.1f ns/record", report.raw_body_ns_per_record))
        }
    }
}
