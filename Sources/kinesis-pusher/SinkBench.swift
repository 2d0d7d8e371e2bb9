import Backoff
import ArgumentParser
import AsyncHTTPClient
import Foundation
import KinesisAPI
import KinesisLocal
import NIOCore
import NIOHTTP1

/// KinesisLocal as a benchmark sink: accepted records per second for PutRecords batches, limits off.
struct SinkBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "local-sink",
        abstract: "KinesisLocal throughput as a sink: records/s accepted, in-process and over loopback HTTP."
    )

    @Option(help: "Records per PutRecords batch.")
    var records = 500

    @Option(help: "Data bytes per record.")
    var size = 100

    @Option(help: "Seconds per measurement.")
    var seconds = 3.0

    @Option(help: "Concurrent HTTP connections for the loopback measurement.")
    var connections = 4

    @Flag(help: "Print a JSON report.")
    var json = false

    struct Report: Encodable {
        var recordsPerBatch: Int
        var recordBytes: Int
        var serverThreads: Int
        var inProcessRecordsPerSecond: Double
        var httpRecordsPerSecond: Double
        var httpConnections: Int
        /// HTTP throughput as a share of the in-process throughput: what the HTTP layer and client cost.
        var httpToInProcessRatio: Double
    }

    func run() async throws {
        let server = try await KinesisLocal.start(
            .init(streams: [.init(name: "bench", shardCount: 4)], shardLimits: .off, retention: .init(maxRecords: 1_000_000))
        )
        let entries = (0..<records).map { index in
            PutRecordsEntry(data: (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) }, partitionKey: "partition-key-\(index)")
        }
        let body = PutRecordsBody.encode(entries, stream: .name("bench"))

        // In process: the backend alone, on this thread.
        let clock = ContinuousClock()
        var accepted = 0
        var start = clock.now
        let inProcessEnd = start + .milliseconds(Int(seconds * 1000))
        while clock.now < inProcessEnd {
            let answer = server.process(target: "Kinesis_20131202.PutRecords", body: body)
            guard answer.status == 200 else { throw ValidationError("KinesisLocal answered \(answer.status)") }
            accepted += records
        }
        let inProcess = Double(accepted) / (clock.now - start).inSeconds

        // Over loopback HTTP, with `connections` requests in flight.
        let before = server.stats().streams["bench"]?.accepted ?? 0
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
        configuration.httpVersion = .http1Only
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        start = clock.now
        let httpEnd = start + .milliseconds(Int(seconds * 1000))
        let endpoint = server.endpoint
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<connections {
                group.addTask {
                    while clock.now < httpEnd {
                        var request = HTTPClientRequest(url: endpoint + "/")
                        request.method = .POST
                        request.headers.add(name: "X-Amz-Target", value: "Kinesis_20131202.PutRecords")
                        request.headers.add(name: "Content-Type", value: "application/x-amz-json-1.1")
                        request.headers.add(
                            name: "Authorization",
                            value: "AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=0"
                        )
                        request.body = .bytes(body)
                        let response = try await client.execute(request, timeout: .seconds(30))
                        _ = try await response.body.collect(upTo: 1 << 20)
                        guard response.status == .ok else { throw ValidationError("KinesisLocal answered \(response.status)") }
                    }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = (clock.now - start).inSeconds
        try await client.shutdown()
        let overHTTP = Double((server.stats().streams["bench"]?.accepted ?? 0) - before) / elapsed
        try await server.stop()

        let report = Report(
            recordsPerBatch: records,
            recordBytes: size,
            serverThreads: 1,
            inProcessRecordsPerSecond: inProcess.rounded(),
            httpRecordsPerSecond: overHTTP.rounded(),
            httpConnections: connections,
            httpToInProcessRatio: overHTTP / inProcess
        )
        if json {
            print(try jsonReport(report))
        } else {
            print("KinesisLocal sink, PutRecords of \(records) × \(size)-byte records, limits off, 1 server thread")
            print(String(format: "  in process (backend only): %12.0f records/s", report.inProcessRecordsPerSecond))
            print(String(format: "  loopback HTTP, %2d conns:   %12.0f records/s (%.2f of in-process)", connections, report.httpRecordsPerSecond, report.httpToInProcessRatio))
        }
    }
}
