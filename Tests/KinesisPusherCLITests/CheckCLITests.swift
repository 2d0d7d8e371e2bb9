import AWSCredentials
import AWSSigning
import Foundation
import KinesisAPI
import KinesisLocal
import Testing
import TestSupport

/// `kinesis-pusher check`'s exit codes and report, run as a process.
@Suite("kinesis-pusher check as a process")
struct CheckCLITests {
    /// The members of `check --json`.
    static let fields: Set<String> = [
        "stream", "streamARN", "status", "mode", "openShardCount", "maxRecordSizeKiB", "endpoint", "region", "openShards",
    ]

    @Test("a good stream: exit 0; --json reports what the stream's own API answers")
    func goodStreamJSON() async throws {
        try await withServer(cliServer()) { server in
            try await withCLISandbox { sandbox in
                let outcome = try await CLIProcess.run(check(server, ["--json"]), environment: sandbox.environment())
                #expect(!outcome.killedBySignal && outcome.status == 0, "\(outcome.description): \(outcome.stderr)")
                #expect(outcome.stderr.isEmpty, "\(outcome.stderr)")

                let object = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
                #expect(Set(object.keys) == Self.fields)
                let report = try JSONDecoder().decode(Report.self, from: Data(outcome.stdout.utf8))
                let (summary, shards) = try await withKinesisClient(url: server.endpoint, credentials: StaticCredentialProvider(TestKeys.test)) { client in
                    (try await client.describeStreamSummary(stream: .name("s")), try await client.listShards(stream: .name("s")))
                }
                #expect(report.stream == "s")
                #expect(report.streamARN == summary.streamARN && report.streamARN == "arn:aws:kinesis:us-east-1:123456789012:stream/s")
                #expect(report.status == "ACTIVE")
                #expect(report.mode == "PROVISIONED")
                #expect(report.openShardCount == 2)
                #expect(report.maxRecordSizeKiB == 1024)
                #expect(report.endpoint == (try KinesisEndpoint(url: server.endpoint)).url)
                #expect(report.region == "us-east-1")
                #expect(report.openShards == shards.map {
                    .init(
                        shardId: $0.shardID,
                        startingHashKey: $0.hashKeyRange.startingHashKey.description,
                        endingHashKey: $0.hashKeyRange.endingHashKey.description
                    )
                })
                #expect(report.openShards.first?.startingHashKey == "0")
                #expect(report.openShards.last?.endingHashKey == "340282366920938463463374607431768211455")
            }
        }
    }

    @Test("a good stream: exit 0; the text report lists the open shards")
    func goodStreamText() async throws {
        try await withServer(cliServer()) { server in
            try await withCLISandbox { sandbox in
                let outcome = try await CLIProcess.run(check(server, []), environment: sandbox.environment())
                #expect(!outcome.killedBySignal && outcome.status == 0, "\(outcome.description): \(outcome.stderr)")
                let lines = outcome.stdout.split(separator: "\n").map(String.init)
                #expect(lines.contains("stream:          s"))
                #expect(lines.contains("status:          ACTIVE"))
                #expect(lines.contains("open shards:     2"))
                #expect(lines.filter { $0.hasPrefix("  shardId-") }.count == 2)
            }
        }
    }

    @Test("a missing stream: exit 1, one line naming the stream, no report")
    func missingStream() async throws {
        try await withServer(cliServer()) { server in
            try await withCLISandbox { sandbox in
                let outcome = try await CLIProcess.run(check(server, stream: "no-such-stream", ["--json"]), environment: sandbox.environment())
                #expect(!outcome.killedBySignal && outcome.status == 1, "\(outcome.description): \(outcome.stderr)")
                #expect(outcome.stdout.isEmpty)
                #expect(outcome.stderrLines.count == 1, "\(outcome.stderr)")
                #expect(outcome.stderr.hasPrefix("error: stream 'no-such-stream' not found"), "\(outcome.stderr)")
            }
        }
    }

    @Test("rejected credentials (strict signatures, wrong secret): exit 1, one line naming the endpoint")
    func rejectedCredentials() async throws {
        try await withServer(cliServer(strict: true)) { server in
            try await withCLISandbox { sandbox in
                let outcome = try await CLIProcess.run(check(server, ["--json"]), environment: sandbox.environment(secret: "not-the-secret"))
                #expect(!outcome.killedBySignal && outcome.status == 1, "\(outcome.description): \(outcome.stderr)")
                #expect(outcome.stdout.isEmpty)
                #expect(outcome.stderrLines.count == 1, "\(outcome.stderr)")
                #expect(outcome.stderr.hasPrefix("error: credentials rejected by \(try KinesisEndpoint(url: server.endpoint).url): InvalidSignatureException"), "\(outcome.stderr)")
            }
        }
    }

    @Test("an unreachable endpoint (a refused port): exit 1, one line saying so")
    func unreachableEndpoint() async throws {
        try await withRefusedPort { port in
            try await withCLISandbox { sandbox in
                let endpoint = "http://127.0.0.1:\(port)"
                let outcome = try await CLIProcess.run(
                    ["check", "--stream", "s", "--endpoint", endpoint, "--json"],
                    environment: sandbox.environment()
                )
                #expect(!outcome.killedBySignal && outcome.status == 1, "\(outcome.description): \(outcome.stderr)")
                #expect(outcome.stdout.isEmpty)
                #expect(outcome.stderrLines.count == 1, "\(outcome.stderr)")
                #expect(outcome.stderr.hasPrefix("error: endpoint unreachable: "), "\(outcome.stderr)")
            }
        }
    }

    @Test(
        "durations that cannot be one are usage errors naming the option, not traps",
        arguments: [["check", "--stream", "s", "--timeout", "inf"], ["check", "--stream", "s", "--timeout", "nan"],
                    ["push", "--stream", "s", "--flush-interval", "inf"], ["push", "--stream", "s", "--shutdown-timeout", "1e30s"]]
    )
    func unusableDurations(arguments: [String]) async throws {
        try await withCLISandbox { sandbox in
            let outcome = try await CLIProcess.run(arguments, environment: sandbox.environment())
            #expect(!outcome.killedBySignal && outcome.status == 64, "\(outcome.description): \(outcome.stderr)")
            #expect(outcome.stderr.contains(arguments[3]), "\(outcome.stderr)")
        }
    }

    @Test("an explicit AWS_EC2_METADATA_SERVICE_ENDPOINT is asked even for a loopback endpoint: its credentials sign")
    func explicitInstanceMetadata() async throws {
        let imds = try await LoopbackHTTPServer.start { request in
            switch request.uri {
            case "/latest/api/token": return .init(body: "imds-token")
            case "/latest/meta-data/iam/security-credentials/": return .init(body: "role")
            default:
                let expiration = ISO8601DateFormatter().string(from: Date().addingTimeInterval(3600))
                return .init(body: #"{"Code":"Success","AccessKeyId":"\#(TestKeys.test.accessKeyID)","SecretAccessKey":"\#(TestKeys.test.secretAccessKey)","Token":"t","Expiration":"\#(expiration)"}"#)
            }
        }
        var strict = cliServer()
        strict.authentication = .strict([.init(accessKeyID: TestKeys.test.accessKeyID, secretAccessKey: TestKeys.test.secretAccessKey, sessionToken: "t")])
        try await withServer(strict) { server in
            try await withCLISandbox { sandbox in
                var environment = sandbox.environment(accessKeyID: nil, secret: nil)
                environment["AWS_EC2_METADATA_DISABLED"] = nil
                environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds.url
                let outcome = try await CLIProcess.run(check(server, ["--json"]), environment: environment)
                #expect(!outcome.killedBySignal && outcome.status == 0, "\(outcome.description): \(outcome.stderr)")
                #expect(!outcome.stderr.contains("placeholder"), "\(outcome.stderr)")
                #expect(imds.requests.contains { $0.uri.hasSuffix("/role") })
            }
        }
        try await imds.stop()
    }

    /// `check --json` as a script reads it.
    struct Report: Decodable {
        struct OpenShard: Decodable, Equatable {
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
}

/// `check` against `server`.
func check(_ server: KinesisLocal, stream: String = "s", _ arguments: [String]) -> [String] {
    ["check", "--stream", stream, "--endpoint", server.endpoint] + arguments
}

/// A loopback port that refuses connections: bound (so nobody else takes it) but not listening.
func withRefusedPort<T>(_ body: (Int) async throws -> T) async throws -> T {
    #if canImport(Glibc)
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
    let fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    return try await withCleanup {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        return try await body(Int(UInt16(bigEndian: address.sin_port)))
    } cleanup: {
        close(fd)
    }
}
