import Foundation
import KinesisAggregation
import Testing
import TestSupport

/// Cross-checks with AWS's own Python library (PyPI `aws-kinesis-agg`, installed by `.ci/run`): its deaggregator
/// reads our aggregates, and ours reads its aggregates, record for record.
@Suite("Compatibility with aws-kinesis-agg", .enabled(if: AWSKinesisAgg.isAvailable || TestEnvironment.isCI))
struct AWSKinesisAggTests {
    static func sample() -> [KinesisAggregation.UserRecord] {
        (0..<120).map { index in
            KinesisAggregation.UserRecord(
                partitionKey: index % 9 == 0 ? "ü-ключ-🙂-\(index % 4)" : "key-\(index % 13)",
                explicitHashKey: index % 6 == 0 ? "\(UInt64(index) &* 2_862_933_555_777_941_757)" : nil,
                data: (0..<(index % 10 == 0 ? 0 : index * 31 % 400)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ index) }
            )
        }
    }

    @Test("aws-kinesis-agg deaggregates our aggregate to the same records")
    func theyReadOurs() throws {
        #expect(AWSKinesisAgg.isAvailable, "python3 with aws_kinesis_agg is needed (pip install aws-kinesis-agg protobuf six)")
        let records = Self.sample()
        let output = try AWSKinesisAgg.run(
            """
            import base64, json, sys
            from aws_kinesis_agg.deaggregator import iter_deaggregate_records
            data = sys.stdin.buffer.read()
            out = []
            for r in iter_deaggregate_records([{"Data": data, "PartitionKey": "a", "SequenceNumber": "1", "ApproximateArrivalTimestamp": 0}], data_format="Boto3"):
                k = r["kinesis"]
                d = k["data"].decode() if isinstance(k["data"], bytes) else k["data"]  # base64 text either way
                out.append({"pk": k["partitionKey"], "ehk": k.get("explicitHashKey"), "data": d, "aggregated": bool(k.get("aggregated", False))})
            print(json.dumps(out))
            """,
            input: KinesisAggregation.aggregate(records)
        )
        struct Entry: Decodable {
            var pk: String
            var ehk: String?
            var data: String
            var aggregated: Bool
        }
        let entries = try JSONDecoder().decode([Entry].self, from: output)
        #expect(entries.count == records.count)
        for (entry, record) in zip(entries, records) {
            #expect(entry.aggregated)
            #expect(entry.pk == record.partitionKey)
            #expect(Data(base64Encoded: entry.data).map(Array.init) == record.data)
            // aws-kinesis-agg reports the first table entry for records without an EHK once the table is non-empty.
            if let explicit = record.explicitHashKey { #expect(entry.ehk == explicit) }
        }
    }

    @Test("we deaggregate aws-kinesis-agg's aggregate to the same records")
    func weReadTheirs() throws {
        #expect(AWSKinesisAgg.isAvailable, "python3 with aws_kinesis_agg is needed (pip install aws-kinesis-agg protobuf six)")
        let records = Self.sample()
        let json = try JSONEncoder().encode(records.map { ["pk": $0.partitionKey, "ehk": $0.explicitHashKey ?? "", "data": Data($0.data).base64EncodedString()] })
        let output = try AWSKinesisAgg.run(
            """
            import base64, json, sys
            from aws_kinesis_agg.aggregator import RecordAggregator
            agg = RecordAggregator()
            for r in json.loads(sys.stdin.read()):
                assert agg.add_user_record(r["pk"], base64.b64decode(r["data"]), r["ehk"] or None) is None, "aggregate filled up"
            pk, ehk, data = agg.clear_and_get().get_contents()
            sys.stdout.buffer.write(data)
            """,
            input: Array(json)
        )
        let theirs = try #require(KinesisAggregation.deaggregate(Array(output)))
        #expect(theirs == records)
    }
}

enum AWSKinesisAgg {
    static let isAvailable: Bool = (try? run("import aws_kinesis_agg.deaggregator, aws_kinesis_agg.aggregator", input: [])) != nil

    /// Runs a Python program with `input` on standard input; returns standard output, or throws on a non-zero exit.
    static func run(_ program: String, input: [UInt8]) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", program]
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(Data(input))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(message: String(decoding: errors, as: UTF8.self))
        }
        return output
    }

    struct Failure: Error, CustomStringConvertible {
        var message: String
        var description: String { "python failed: \(message)" }
    }
}
