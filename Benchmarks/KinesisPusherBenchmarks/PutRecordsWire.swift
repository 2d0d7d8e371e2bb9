import Benchmark
import Foundation
import KinesisAPI
import NIOCore

/// The PutRecords body writer: batches of 500 records of 100 bytes. An iteration writes two batches, so the
/// scaled numbers are per record.
func putRecordsBodyBenchmarks() {
    let batch = Fixtures.entries(500)
    let stream = StreamIdentifier.name("bench-stream")
    Benchmark("PutRecords body, 500 × 100 B batch, per record") { benchmark in
        for _ in 0..<(benchmark.scaledIterations.count / batch.count) {
            blackHole(PutRecordsBody.encode(batch, stream: stream))
        }
    }
}

/// Reading PutRecords answers of 500 entries, the way KinesisClient does: `JSONDecoder` over the body's bytes into
/// the public `PutRecordsResult` (what `PutRecordsResult.decode(answer:recordCount:)` runs, minus its entry-count
/// check, which is `package` and so out of reach here). An iteration reads two answers: the scaled numbers are
/// per entry.
func putRecordsResponseBenchmarks() {
    let succeeded = ByteBuffer(bytes: PutRecordsAnswer.json(entries: 500, failEvery: nil))
    // Every fourth entry throttled and every tenth an internal failure: 175 of 500 failed.
    let mixed = ByteBuffer(bytes: PutRecordsAnswer.json(entries: 500, failEvery: 4))

    func decode(_ answer: ByteBuffer) -> PutRecordsResult {
        do {
            return try JSONDecoder().decode(PutRecordsResult.self, from: Data(answer.readableBytesView))
        } catch {
            fatalError("the benchmark's PutRecords answer does not decode: \(error)")
        }
    }
    precondition(decode(succeeded).failedRecordCount == 0 && decode(mixed).failedRecordCount == 175)

    Benchmark("PutRecords answer, 500 entries all stored, per entry") { benchmark in
        for _ in 0..<(benchmark.scaledIterations.count / 500) {
            blackHole(decode(succeeded))
        }
    }
    Benchmark("PutRecords answer, 500 entries 175 failed, per entry") { benchmark in
        for _ in 0..<(benchmark.scaledIterations.count / 500) {
            blackHole(decode(mixed))
        }
    }
}

/// A PutRecords answer shaped like Kinesis's: 56-digit sequence numbers, four shards, AWS's error messages.
enum PutRecordsAnswer {
    static func json(entries: Int, failEvery: Int?) -> [UInt8] {
        var failed = 0
        var records: [String] = []
        for index in 0..<entries {
            let shard = "shardId-00000000000\(index % 4)"
            if let failEvery, index % failEvery == 0 {
                failed += 1
                records.append(
                    #"{"ErrorCode":"ProvisionedThroughputExceededException","ErrorMessage":"Rate exceeded for shard \#(shard) in stream bench-stream under account 123456789012."}"#
                )
            } else if failEvery != nil, index % 10 == 5 {
                failed += 1
                records.append(#"{"ErrorCode":"InternalFailure","ErrorMessage":"Internal service failure."}"#)
            } else {
                let sequence = "4963\(String(repeating: "0", count: 20))\(String(1_000_000_000_000 + index * 7919))\(String(repeating: "7", count: 19))"
                records.append(#"{"SequenceNumber":"\#(sequence)","ShardId":"\#(shard)"}"#)
            }
        }
        return Array(#"{"FailedRecordCount":\#(failed),"Records":[\#(records.joined(separator: ","))]}"#.utf8)
    }
}
