import AWSCredentials
import ArgumentParser
import AsyncHTTPClient
import Foundation
import KinesisAPI
import NIOCore

/// `kinesis-pusher check`: the seed's `CheckShards` as a command.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Show a stream's status, mode and open shards; fail fast on a missing stream or bad credentials."
    )

    @OptionGroup var aws: AWSOptions

    @Option(help: "Give up after this many seconds.")
    var timeout: Double = 4.5

    @Flag(help: "Print a JSON report instead of text.")
    var json = false

    func validate() throws {
        guard timeout.isFinite, timeout > 0, timeout <= 3600 else {
            throw ValidationError("--timeout must be a number of seconds above 0 and at most 3600, not \(timeout)")
        }
    }

    struct Report: Encodable {
        struct OpenShard: Encodable {
            var shardId: String
            var startingHashKey: String
            var endingHashKey: String
        }
        var stream: String
        var streamARN: String
        var status: String
        var mode: String
        var openShardCount: Int
        var maxRecordSizeKiB: Int
        var endpoint: String
        var region: String
        var openShards: [OpenShard]
    }

    func run() async throws {
        let logger = aws.makeLogger()
        // The CA bundle comes with the resolved configuration (a resolution error is reported by makeClient below).
        let caBundle = (try? aws.resolveConfiguration())?.http.caBundlePath
        var httpConfiguration = KinesisClient.httpConfiguration(.init(connectTimeout: .milliseconds(1500), requestTimeout: .seconds(3), caBundlePath: caBundle))
        // A diagnosis: a refused connection is the answer, not something to retry until the connect timeout.
        httpConfiguration.connectionPool.retryConnectionEstablishment = false
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
        var endpoint: String?
        do {
            let client = try aws.makeClient(httpClient: httpClient, logger: logger) { configuration in
                configuration.http.requestTimeout = .seconds(3)
                configuration.retry = .init(maxAttempts: 2)
            }
            endpoint = client.configuration.endpoint.url
            let report = try await withDeadline(seconds: timeout, endpoint: client.configuration.endpoint.url) {
                try await self.check(client)
            }
            try await httpClient.shutdown()
            print(json ? try jsonReport(report) : Self.text(report))
        } catch {
            try? await httpClient.shutdown()
            FileHandle.standardError.write(
                Data("error: \(FailureReason.describe(error, stream: aws.stream, endpoint: endpoint))\n".utf8)
            )
            throw ExitCode.failure
        }
    }

    private func check(_ client: KinesisClient) async throws -> Report {
        let stream = aws.streamIdentifier
        let summary = try await client.describeStreamSummary(stream: stream)
        let shards = try await client.listShards(stream: stream, filter: .atLatest)
        return Report(
            stream: summary.streamName,
            streamARN: summary.streamARN,
            status: summary.streamStatus,
            mode: summary.streamMode ?? "PROVISIONED",
            openShardCount: shards.count,
            maxRecordSizeKiB: summary.maxRecordSizeInKiB,
            endpoint: client.configuration.endpoint.url,
            region: client.configuration.region,
            openShards: shards.map {
                .init(
                    shardId: $0.shardID,
                    startingHashKey: $0.hashKeyRange.startingHashKey.description,
                    endingHashKey: $0.hashKeyRange.endingHashKey.description
                )
            }
        )
    }

    static func text(_ report: Report) -> String {
        var lines = [
            "stream:          \(report.stream)",
            "arn:             \(report.streamARN)",
            "status:          \(report.status)",
            "mode:            \(report.mode)",
            "open shards:     \(report.openShardCount)",
            "max record size: \(report.maxRecordSizeKiB) KiB",
        ]
        for shard in report.openShards {
            lines.append("  \(shard.shardId)  \(shard.startingHashKey) … \(shard.endingHashKey)")
        }
        return lines.joined(separator: "\n")
    }
}

/// Runs `operation`, failing with a timeout error naming the endpoint when it takes longer than `seconds`.
func withDeadline<T: Sendable>(
    seconds: Double,
    endpoint: String,
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            throw KinesisError(
                code: .timeout,
                message: "no answer from \(endpoint) within \(seconds) s",
                operation: "check"
            )
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}
