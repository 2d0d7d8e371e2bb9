import ArgumentParser
import AWSCredentials
import Foundation
import KinesisLocal
import KinesisPusherPrometheus
import Logging
import ServiceLifecycle
import UnixSignals

/// `kinesis-pusher local`: runs KinesisLocal in the foreground until Ctrl-C or SIGTERM.
struct LocalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "local",
        abstract: "Run an embedded Kinesis-compatible server on loopback (no AWS account needed).",
        discussion: """
            Faults and counters can be changed and read while it runs: GET/POST /_admin/faults, POST /_admin/reshard \
            ({"stream":"s","shardCount":8}), GET /_admin/stats, GET /_admin/records?stream=s[&deaggregate=true] (every \
            stored record as NDJSON; KPL aggregates unpacked and flagged as the KCL reads them). Every /_admin request \
            must carry 'Authorization: Bearer TOKEN' with the admin token printed at start (random unless \
            --admin-token is given) and a loopback Host header.

            Bound beyond loopback (--host), anyone who reaches the port can use the Kinesis API, so that takes \
            --strict-auth (signatures verified) or an explicit --allow-remote.
            """
    )

    @Option(help: "Port to listen on (0 picks a free one).")
    var port = 4567

    @Option(help: "Address to bind. Other than loopback only with --strict-auth or --allow-remote.")
    var host = "127.0.0.1"

    @Flag(help: "Allow --host other than loopback without --strict-auth (any client reaching the port can then read and write every stream).")
    var allowRemote = false

    @Option(help: "The token /_admin requests must send as 'Authorization: Bearer TOKEN' (default: a random one, printed at start).")
    var adminToken: String?

    @Option(help: "Connections served at once; more are closed at once.")
    var maxConnections = 1024

    @Option(help: "Close a connection idle this long (e.g. 60s, 500ms; 0 keeps idle connections).")
    var idleTimeout = DurationArgument(argument: "60s")!

    @Option(name: .customLong("stream"), help: "Create a stream at start: NAME:SHARDS or NAME:on-demand (repeatable).")
    var streams: [String] = []

    @Option(help: "Region of the --stream streams and the admin endpoint (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's region, else us-east-1). Requests see the streams of the region they are signed for.")
    var region: String?

    @Flag(help: "Serve HTTPS with a new self-signed certificate (written to --tls-dir; its path is printed: give it to clients as AWS_CA_BUNDLE or --ca-bundle).")
    var tls = false

    @Option(help: "With --tls: where the generated cert.pem and key.pem go (default: a new directory under the temporary directory).")
    var tlsDir: String?

    @Option(help: "Serve HTTPS with this PEM certificate chain (with --tls-key) instead of a generated one.")
    var tlsCert: String?

    @Option(help: "The PEM private key of --tls-cert.")
    var tlsKey: String?

    @Option(help: "Open shards the account may have per region (default AWS's: 500 in us-east-1, us-west-2, eu-west-1; 200 elsewhere).")
    var shardLimit: Int?

    @Flag(help: "Turn the per-shard limits (1000 records/s, 1 MiB/s) off.")
    var noShardLimits = false

    @Flag(help: "Verify SigV4 signatures against --access-key (or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY).")
    var strictAuth = false

    @Option(name: .customLong("access-key"), help: "With --strict-auth: ID:SECRET or ID:SECRET:SESSION_TOKEN (repeatable).")
    var accessKeys: [String] = []

    @Option(help: "Largest PutRecords request in MiB (5 mimics older limits and moto).")
    var maxRequestMib = 10

    @Option(help: "Records each stream keeps before dropping its oldest.")
    var retainRecords = 2_000_000

    @Option(help: "Record data each stream keeps, in MiB, before dropping its oldest.")
    var retainMib = 512

    @Option(help: "Fault: share of records failed with InternalFailure (0-1).")
    var failRecords = 0.0
    @Option(help: "Fault: share of records throttled (ProvisionedThroughputExceededException).")
    var throttleRecords = 0.0
    @Option(help: "Fault: share of put requests answered HTTP 500.")
    var failRequests = 0.0
    @Option(help: "Fault: share of put requests throttled as a whole (HTTP 400).")
    var throttleRequests = 0.0
    @Option(help: "Fault: share of put requests answered KMSThrottlingException.")
    var kmsThrottle = 0.0
    @Option(help: "Fault: share of put requests whose connection is dropped without an answer.")
    var dropConnections = 0.0
    @Option(help: "Fault: milliseconds added before each put answer.")
    var latencyMs = 0
    @Option(help: "Fault: after N requests with one access key, answer ExpiredTokenException for that key.")
    var expireTokenAfter: Int?
    @Option(help: "Seed of the fault generator.")
    var seed: UInt64 = 1

    @Flag(help: "Log each start-up step.")
    var verbose = false

    @OptionGroup var metricsOptions: MetricsOptions

    func validate() throws {
        for rate in [failRecords, throttleRecords, failRequests, throttleRequests, kmsThrottle, dropConnections] where !(0...1).contains(rate) {
            throw ValidationError("fault rates are shares between 0 and 1; got \(rate)")
        }
        guard (1...64).contains(maxRequestMib) else { throw ValidationError("--max-request-mib must be 1 to 64") }
        guard (0...KinesisLocal.Faults.maxAddedLatencyMilliseconds).contains(latencyMs) else {
            throw ValidationError("--latency-ms must be 0 to \(KinesisLocal.Faults.maxAddedLatencyMilliseconds) (an hour)")
        }
        guard maxConnections >= 1 else { throw ValidationError("--max-connections must be at least 1") }
        if let shardLimit, shardLimit < 1 { throw ValidationError("--shard-limit must be at least 1") }
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
        if tls && tlsCert != nil { throw ValidationError("--tls generates a certificate; --tls-cert/--tls-key bring one: give one or the other") }
        if tlsDir != nil && !tls { throw ValidationError("--tls-dir is where --tls writes its certificate; add --tls") }
        if !KinesisLocal.isLoopback(host: host), !strictAuth, !allowRemote {
            throw ValidationError(
                "--host \(host) is not a loopback address: without --strict-auth KinesisLocal accepts any signature, so anyone who can reach \(host) could read and write every stream. Add --strict-auth (with --access-key), or --allow-remote to bind it anyway."
            )
        }
    }

    func run() async throws {
        var logger = Logger(label: "kinesis-pusher.local", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = verbose ? .debug : .notice
        var tlsFiles: KinesisLocal.Configuration.TLS?
        if let tlsCert, let tlsKey {
            tlsFiles = .init(certificatePath: tlsCert, privateKeyPath: tlsKey)
        } else if tls {
            let directory = tlsDir ?? NSTemporaryDirectory() + "kinesis-local-tls-\(UUID().uuidString.prefix(8))"
            tlsFiles = try .selfSigned(in: directory, hosts: [host])
        }
        // The region `push` signs for against a loopback endpoint, so the two agree without flags.
        let region = self.region ?? (try? AWSRegionResolver.resolve()) ?? "us-east-1"
        let configuration = KinesisLocal.Configuration(
            host: host,
            port: port,
            region: region,
            streams: try streams.map(Self.parseStream),
            shardLimits: noShardLimits ? .off : .init(),
            accountLimits: .init(shards: shardLimit),
            maxRequestBytes: maxRequestMib << 20,
            authentication: strictAuth ? .strict(try strictKeys()) : .acceptAny,
            faults: .init(
                recordInternalFailureRate: failRecords,
                recordThrottleRate: throttleRecords,
                requestInternalErrorRate: failRequests,
                requestThrottleRate: throttleRequests,
                kmsThrottlingRate: kmsThrottle,
                dropConnectionRate: dropConnections,
                addedLatencyMilliseconds: latencyMs,
                expiredTokenAfterRequests: expireTokenAfter,
                seed: seed
            ),
            retention: .init(maxRecords: retainRecords, maxBytes: retainMib << 20),
            adminToken: adminToken,
            maxConnections: maxConnections,
            idleTimeout: idleTimeout.duration,
            tls: tlsFiles
        )
        let server = try await KinesisLocal.start(configuration, logger: logger)
        var banner = ["KinesisLocal listening on \(server.endpoint)", "  region \(region) (a request signed for another region sees that region's streams)"]
        for spec in configuration.streams {
            banner.append("  stream \(spec.name): \(spec.onDemand ? "on-demand, 4" : "\(spec.shardCount)") shards")
        }
        banner.append("  per-shard limits \(noShardLimits ? "off" : "on"), signatures \(strictAuth ? "verified" : "not verified"); Ctrl-C stops")
        // Scripts read this line for the token (send it as "Authorization: Bearer TOKEN" to /_admin/*).
        banner.append("  admin token: \(server.adminToken)")
        let trust = tlsFiles.map { " --ca-bundle \($0.certificatePath)" } ?? ""
        if let tlsFiles {
            banner.append("  TLS certificate: \(tlsFiles.certificatePath) (clients trust it with AWS_CA_BUNDLE=\(tlsFiles.certificatePath) or --ca-bundle)")
        }
        if let first = configuration.streams.first {
            // The next step, ready to paste: region and credentials are filled in for a loopback endpoint.
            banner.append("  push: kinesis-pusher push --stream \(first.name) --endpoint \(server.endpoint)\(trust) FILE")
            banner.append("  read: kinesis-pusher read --stream \(first.name) --endpoint \(server.endpoint)\(trust)")
        }
        // Written unbuffered so a script reading our output sees the endpoint at once.
        FileHandle.standardOutput.write(Data((banner.joined(separator: "\n") + "\n").utf8))
        var services: [any Service] = [server]
        let metrics = PrometheusMetrics(help: LocalMetricsPublisher.help)
        if let metricsServer = try await metricsOptions.startServer(metrics) {
            services += [metricsServer, LocalMetricsPublisher(server: server, metrics: metrics)]
        }
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }

    static func parseStream(_ text: String) throws -> KinesisLocal.Configuration.StreamSpec {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard let name = parts.first, !name.isEmpty else { throw ValidationError("--stream wants NAME:SHARDS, got '\(text)'") }
        guard parts.count == 2 else { return .init(name: name, shardCount: 4) }
        if parts[1] == "on-demand" { return .init(name: name, onDemand: true) }
        guard let count = Int(parts[1]), count >= 1 else {
            throw ValidationError("--stream wants NAME:SHARDS with SHARDS ≥ 1 (or NAME:on-demand), got '\(text)'")
        }
        return .init(name: name, shardCount: count)
    }

    func strictKeys() throws -> [KinesisLocal.Configuration.Authentication.AccessKey] {
        var keys = try accessKeys.map { text -> KinesisLocal.Configuration.Authentication.AccessKey in
            let parts = text.split(separator: ":", maxSplits: 2).map(String.init)
            guard parts.count >= 2 else { throw ValidationError("--access-key wants ID:SECRET[:SESSION_TOKEN]") }
            return .init(accessKeyID: parts[0], secretAccessKey: parts[1], sessionToken: parts.count == 3 ? parts[2] : nil)
        }
        let environment = ProcessInfo.processInfo.environment
        if keys.isEmpty, let id = environment["AWS_ACCESS_KEY_ID"], let secret = environment["AWS_SECRET_ACCESS_KEY"] {
            keys.append(.init(accessKeyID: id, secretAccessKey: secret, sessionToken: environment["AWS_SESSION_TOKEN"]))
        }
        guard !keys.isEmpty else {
            throw ValidationError("--strict-auth needs --access-key ID:SECRET or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        }
        return keys
    }
}
