import Backoff
import ArgumentParser
import Foundation
import KinesisAPI
import NIOCore

/// `kinesis-pusher bench`: micro-benchmarks of the hot paths, each reported against a baseline run in the same
/// process, so the ratio means something on a noisy machine. Build with `-c release` for real numbers.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure hot paths against a baseline in the same run.",
        subcommands: [EncodeBench.self, AggregateBench.self, SinkBench.self, ProducerBench.self]
    )
}

/// PutRecords body encoding: the hand-written writer against Foundation's JSONEncoder.
struct EncodeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "PutRecords body encoding cost per record: KinesisAPI's writer vs Foundation JSONEncoder."
    )

    @Option(help: "Records per PutRecords body.")
    var records = 500

    @Option(help: "Data bytes per record.")
    var size = 100

    @Option(help: "Seconds to run each contender (after a warm-up).")
    var seconds = 2.0

    @Flag(help: "Print a JSON report.")
    var json = false

    struct Report: Encodable {
        var recordsPerBody: Int
        var recordBytes: Int
        var bodyBytes: Int
        var writerNanosecondsPerRecord: Double
        var jsonEncoderNanosecondsPerRecord: Double
        var speedup: Double
    }

    /// What botocore would build: the same document through Codable.
    struct CodableBody: Encodable {
        struct Entry: Encodable {
            var Data: Data
            var PartitionKey: String
        }
        var Records: [Entry]
        var StreamName: String
    }

    func run() throws {
        let entries = (0..<records).map { index in
            PutRecordsEntry(data: (0..<size).map { UInt8(truncatingIfNeeded: $0 &+ index) }, partitionKey: "partition-key-\(index)")
        }
        let stream = StreamIdentifier.name("bench-stream")
        let body = PutRecordsBody.encode(entries, stream: stream)

        let writer = medianNanoseconds(seconds: seconds) {
            PutRecordsBody.encode(entries, stream: stream).readableBytes
        }
        let encoder = JSONEncoder()
        let codable = CodableBody(
            Records: entries.map { .init(Data: Data($0.data), PartitionKey: $0.partitionKey) },
            StreamName: "bench-stream"
        )
        let baseline = medianNanoseconds(seconds: seconds) {
            (try? encoder.encode(codable).count) ?? 0
        }
        let report = Report(
            recordsPerBody: records,
            recordBytes: size,
            bodyBytes: body.readableBytes,
            writerNanosecondsPerRecord: writer / Double(records),
            jsonEncoderNanosecondsPerRecord: baseline / Double(records),
            speedup: baseline / writer
        )
        if json {
            print(try jsonReport(report))
        } else {
            print("PutRecords body, \(records) records × \(size) bytes (\(report.bodyBytes) bytes per body)")
            print(String(format: "  KinesisAPI writer:    %8.1f ns/record", report.writerNanosecondsPerRecord))
            print(String(format: "  Foundation JSONEncoder: %6.1f ns/record (baseline)", report.jsonEncoderNanosecondsPerRecord))
            print(String(format: "  speed-up:             %8.2fx", report.speedup))
        }
    }
}

/// Median nanoseconds per call of `body` over batches run for about `seconds`, after a warm-up.
func medianNanoseconds(seconds: Double, _ body: () -> Int) -> Double {
    var sink = 0
    for _ in 0..<20 { sink &+= body() }
    var samples: [Double] = []
    let clock = ContinuousClock()
    let end = clock.now + .milliseconds(Int(seconds * 1000))
    while clock.now < end {
        let start = clock.now
        for _ in 0..<10 { sink &+= body() }
        let elapsed = clock.now - start
        samples.append(Double(elapsed.inNanoseconds) / 10)
    }
    if sink == 42 { print("") }  // keeps the work observable
    samples.sort()
    return samples[samples.count / 2]
}
