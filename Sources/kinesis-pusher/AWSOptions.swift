import AWSCredentials
import ArgumentParser
import AsyncHTTPClient
import KinesisAPI
import Logging

/// The options every command that talks to Kinesis shares.
struct AWSOptions: ParsableArguments {
    @Option(help: "The stream name (or ARN, starting with 'arn:').")
    var stream: String

    @Option(help: "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, then the profile's region; us-east-1 for a loopback endpoint).")
    var region: String?

    @Option(help: "Profile of ~/.aws/config and ~/.aws/credentials (default: AWS_PROFILE, else 'default').")
    var profile: String?

    @Option(help: "Custom endpoint URL, e.g. http://127.0.0.1:4567 (default: AWS_ENDPOINT_URL_KINESIS, AWS_ENDPOINT_URL, else the region's). On loopback, missing credentials are replaced by placeholders.")
    var endpoint: String?

    @Option(help: "PEM file of the certificate authorities to trust for the endpoint (default: AWS_CA_BUNDLE, the profile's ca_bundle, else the system's); e.g. the certificate `kinesis-pusher local --tls` prints.")
    var caBundle: String?

    @Flag(help: "Log requests, retries and credential resolution to standard error.")
    var verbose = false

    var streamIdentifier: StreamIdentifier {
        stream.hasPrefix("arn:") ? .arn(stream) : .name(stream)
    }

    func makeLogger() -> Logger {
        var logger = Logger(label: "kinesis-pusher", factory: { label in StreamLogHandler.standardError(label: label) })
        logger.logLevel = verbose ? .debug : .warning
        return logger
    }

    /// Resolves region, endpoint and credentials (with the defaults for a loopback endpoint, see
    /// ``LocalEndpoint``), and builds a client on `httpClient`.
    func makeClient(httpClient: HTTPClient, logger: Logger, configure: (inout KinesisClient.Configuration) -> Void = { _ in }) throws -> KinesisClient {
        var configuration = try resolveConfiguration()
        configure(&configuration)
        let credentials = makeCredentialProvider(httpClient: httpClient, logger: logger)
        return KinesisClient(configuration: configuration, credentialProvider: credentials, httpClient: httpClient, logger: logger)
    }
}
