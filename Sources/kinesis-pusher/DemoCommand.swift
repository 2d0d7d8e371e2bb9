import Backoff
import AWSCredentials
import AWSSigning
import ArgumentParser
import Foundation
import KinesisAPI
import KinesisLocal
import KinesisPusher
import Logging

/// `kinesis-pusher demo`: the main job on the embedded default, with nothing installed and no AWS account.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Push a generated data set through the Runner into an in-process KinesisLocal, read it all back, verify it."
    )

    @Option(help: "Records to push.")
    var records = 100_000

    @Option(help: "Bytes per record.")
    var size = 100

    @Option(help: "Shards of the demo stream.")
    var shards = 4

    @Flag(help: "Enforce Kinesis's per-shard limits (1000 records/s, 1 MiB/s) and pace the Runner to them.")
    var shardLimits = false

    @Flag(help: "One PutRecords call at a time instead of --max-concurrent-puts.")
    var sync = false

    @Option(help: "PutRecords calls in flight (async mode).")
    var maxConcurrentPuts = 10

    @Flag(help: "Print the result as JSON.")
    var json = false

    struct Report: Encodable {
        var records: Int
        var record_bytes: Int
        var shards: Int
        var shard_limits: Bool
        var mode: String
        var elapsed_s: Double
        var records_per_s: Double
        var mib_per_s: Double
        var latency_ms_p50: Double
        var latency_ms_p99: Double
        var latency_ms_max: Double
        var delivered: Int
        var failed: Int
        var read_back: Int
        var verified: Int
        var missing: Int
        var duplicates: Int
        var corrupted: Int
        var wrong_shard: Int
        var ok: Bool
    }

    func validate() throws {
        guard records >= 1, size >= 16, size <= 1_000_000, shards >= 1 else {
            throw ValidationError("--records ≥ 1, --size 16…1000000 and --shards ≥ 1")
        }
    }

    func run() async throws {
        let server = try await KinesisLocal.start(
            .init(
                streams: [.init(name: "demo", shardCount: shards)],
                shardLimits: shardLimits ? .init() : .off,
                retention: .init(maxRecords: max(2_000_000, records), maxBytes: max(512 << 20, records * size * 2))
            )
        )
        let credentials = StaticCredentialProvider(AWSCredentialIdentity(accessKeyID: "AKIDDEMO", secretAccessKey: "demo"))
        let terminal = isatty(2) == 1 && !json
        say("KinesisLocal on \(server.endpoint): stream 'demo', \(shards) shards, per-shard limits \(shardLimits ? "on" : "off")")

        let runner = Runner(bufferSize: 10_000, maxConcurrentPuts: maxConcurrentPuts)
            .withCredentialProvider(credentials)
            .withRateLimit(percent: shardLimits ? 100 : nil)
        if !sync { runner.withAsync() }
        try runner.configure(AWSConfig(region: "us-east-1", profile: nil, streamName: "demo", endpoint: server.endpoint))
        _ = try await runner.checkShards()

        say("pushing \(records) records of \(size) bytes (\(sync ? "sync" : "async, \(maxConcurrentPuts) calls in flight"))…")
        let start = ContinuousClock.now
        let results = try await withThrowingTaskGroup(of: [PutResult?]?.self) { group in
            group.addTask {
                try await runner.run()
                return nil
            }
            if terminal {
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .milliseconds(250))
                        let stats = runner.stats
                        FileHandle.standardError.write(Data("\r\u{1B}[K  delivered \(stats.delivered) of \(records)  in flight \(stats.inFlight)  buffered \(stats.buffered)".utf8))
                    }
                    return nil
                }
            }
            group.addTask {
                // Many concurrent put() calls, each learning its own latency; the runner batches them.
                let results = try await withThrowingTaskGroup(of: [(Int, PutResult?)].self) { workers in
                    let count = min(512, records)
                    for worker in 0..<count {
                        workers.addTask {
                            var mine: [(Int, PutResult?)] = []
                            for index in stride(from: worker, to: records, by: count) {
                                mine.append((index, try? await runner.put(Self.record(index, size: size))))
                            }
                            return mine
                        }
                    }
                    var all = [PutResult?](repeating: nil, count: records)
                    for try await batch in workers {
                        for (index, result) in batch { all[index] = result }
                    }
                    return all
                }
                await runner.shutdown()
                return results
            }
            while let next = try await group.next() {
                if let results = next {
                    group.cancelAll()
                    return results
                }
            }
            return []
        }
        let elapsed = ContinuousClock.now - start
        if terminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        let seconds = elapsed.inSeconds

        say("reading every record back…")
        let client = KinesisClient(
            configuration: try .init(region: "us-east-1", endpoint: KinesisEndpoint(url: server.endpoint)),
            credentialProvider: credentials,
            logger: Logger(label: "demo", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        let verification = try await Self.verify(client: client, expected: results, size: size)
        try await client.shutdown()
        try await server.stop()

        let latencies = results.compactMap { $0?.latency }.map { $0.inSeconds * 1000 }.sorted()
        func percentile(_ p: Double) -> Double {
            latencies.isEmpty ? 0 : (latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] * 10).rounded() / 10
        }
        let delivered = results.compactMap { $0 }.count
        let report = Report(
            records: records,
            record_bytes: size,
            shards: shards,
            shard_limits: shardLimits,
            mode: sync ? "sync" : "async",
            elapsed_s: (seconds * 1000).rounded() / 1000,
            records_per_s: (Double(delivered) / seconds).rounded(),
            mib_per_s: (Double(delivered * size) / seconds / 1_048_576 * 100).rounded() / 100,
            latency_ms_p50: percentile(0.5),
            latency_ms_p99: percentile(0.99),
            latency_ms_max: (latencies.last ?? 0).rounded(),
            delivered: delivered,
            failed: records - delivered,
            read_back: verification.readBack,
            verified: verification.verified,
            missing: verification.missing,
            duplicates: verification.duplicates,
            corrupted: verification.corrupted,
            wrong_shard: verification.wrongShard,
            ok: delivered == records && verification.verified == records && verification.duplicates == 0
                && verification.corrupted == 0 && verification.wrongShard == 0
        )
        if json {
            print(try jsonReport(report))
        } else {
            print("""
                pushed     \(report.delivered) of \(records) records in \(report.elapsed_s) s: \(Int(report.records_per_s)) records/s, \(report.mib_per_s) MiB/s
                latency    p50 \(report.latency_ms_p50) ms, p99 \(report.latency_ms_p99) ms, max \(report.latency_ms_max) ms (put() to acknowledgement)
                read back  \(report.read_back) records: \(report.verified) verified byte-exact on the shard put() reported, \(report.missing) missing, \(report.duplicates) duplicates, \(report.corrupted) corrupted
                result     \(report.ok ? "OK: every record delivered exactly once" : "FAILED")
                """)
        }
        if !report.ok { throw ExitCode.failure }
    }

    private func say(_ line: String) {
        if !json { print(line) }
    }

    /// Record `index`: a JSON line naming its index, padded to `size` bytes; keys spread over 1000 users.
    static func record(_ index: Int, size: Int) -> Record {
        let head = "{\"id\":\(index),\"pad\":\""
        let padding = String(repeating: "x", count: max(0, size - head.utf8.count - 2))
        return Record(text: head + padding + "\"}", partitionKey: "user-\(index % 1000)")
    }

    struct Verification {
        var readBack = 0
        var verified = 0
        var missing = 0
        var duplicates = 0
        var corrupted = 0
        var wrongShard = 0
    }

    /// Reads every shard from the trim horizon and checks each record against what was put.
    static func verify(client: KinesisClient, expected: [PutResult?], size: Int) async throws -> Verification {
        var seen = [Bool](repeating: false, count: expected.count)
        var result = Verification()
        for shard in try await client.listShards(stream: .name("demo")) {
            try await client.readShard(shard.shardID, stream: .name("demo")) { records in
                for stored in records {
                    result.readBack += 1
                    guard let text = String(bytes: stored.data, encoding: .utf8), text.hasPrefix("{\"id\":"),
                        let index = Int(text.dropFirst(6).prefix { $0.isNumber }), index < expected.count
                    else {
                        result.corrupted += 1
                        continue
                    }
                    if seen[index] {
                        result.duplicates += 1
                        continue
                    }
                    seen[index] = true
                    let original = record(index, size: size)
                    guard stored.data == original.data, stored.partitionKey == original.partitionKey else {
                        result.corrupted += 1
                        continue
                    }
                    guard let put = expected[index], put.shardID == shard.shardID, put.sequenceNumber == stored.sequenceNumber else {
                        result.wrongShard += 1
                        continue
                    }
                    result.verified += 1
                }
            }
        }
        result.missing = seen.filter { !$0 }.count
        return result
    }
}
