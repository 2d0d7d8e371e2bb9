import AWSCredentials
import AWSSigning
import AsyncHTTPClient
import Foundation
import KinesisAPI
import KinesisLocal
import Logging
import Synchronization

/// Defaults for an endpoint on this machine (`kinesis-pusher local`, moto_server, LocalStack): they check no
/// signature, so a region and credentials are only needed to sign, and a newcomer should not have to invent them.
enum LocalEndpoint {
    /// The region used for a loopback endpoint when none is set anywhere.
    static let region = "us-east-1"
    /// Signs requests to a loopback endpoint when the credential chain finds nothing configured.
    static let placeholderCredentials = AWSCredentialIdentity(accessKeyID: "local", secretAccessKey: "local")

    /// Whether `url`'s host is on this machine: `localhost`, an address in `127.0.0.0/8`, or `::1` (parsed as an
    /// address: `127.evil.example` is not one).
    static func isLoopback(_ url: String) -> Bool {
        guard let host = URLComponents(string: url)?.host else { return false }
        return KinesisLocal.isLoopback(host: host)
    }

    /// Says once on standard error what was filled in, so nothing happens silently.
    static func note(_ text: String) {
        FileHandle.standardError.write(Data("note: \(text)\n".utf8))
    }
}

extension AWSOptions {
    /// The custom endpoint in force: `--endpoint`, else `AWS_ENDPOINT_URL_KINESIS`, else `AWS_ENDPOINT_URL`.
    var customEndpoint: String? {
        let environment = ProcessEnvironment.current
        return [endpoint, environment["AWS_ENDPOINT_URL_KINESIS"], environment["AWS_ENDPOINT_URL"]]
            .compactMap { $0 }.first { !$0.isEmpty }
    }

    /// The loopback endpoint in force, if the custom endpoint is one.
    var loopbackEndpoint: String? {
        customEndpoint.flatMap { LocalEndpoint.isLoopback($0) ? $0 : nil }
    }

    /// Region and endpoint as the AWS tools resolve them, except that a loopback endpoint with no region set
    /// anywhere gets `us-east-1` (with a note) instead of an error.
    func resolveConfiguration() throws -> KinesisClient.Configuration {
        do {
            return try KinesisClient.Configuration.resolve(region: region, profile: profile, endpoint: endpoint, caBundle: caBundle)
        } catch let error as CredentialProviderError where error.provider == "region" {
            guard let local = loopbackEndpoint else { throw error }
            LocalEndpoint.note("no region set; using \(LocalEndpoint.region) for the local endpoint \(local)")
            return try KinesisClient.Configuration.resolve(region: LocalEndpoint.region, profile: profile, endpoint: endpoint, caBundle: caBundle)
        }
    }

    /// The default credential chain, cached; for a loopback endpoint without instance metadata (unless
    /// `AWS_EC2_METADATA_SERVICE_ENDPOINT` names one), and with placeholder credentials (and a note) when no source
    /// is configured.
    func makeCredentialProvider(httpClient: HTTPClient = KinesisClient.sharedHTTPClient, logger: Logger) -> CachingCredentialProvider {
        guard let local = loopbackEndpoint else {
            return DefaultCredentialChain.make(profile: profile, httpClient: httpClient, logger: logger)
        }
        var environment = ProcessEnvironment.current
        if environment["AWS_EC2_METADATA_DISABLED"] == nil && environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] == nil {
            environment["AWS_EC2_METADATA_DISABLED"] = "true"
        }
        let chain = CredentialProviderChain(
            DefaultCredentialChain.providers(profile: profile, environment: environment, httpClient: httpClient)
        )
        return CachingCredentialProvider(PlaceholderFallbackCredentials(chain, endpoint: local), logger: logger)
    }
}

/// A credential provider that answers with ``LocalEndpoint/placeholderCredentials`` when its base finds no
/// source configured at all; a configured but broken source (a named profile that is missing, a failing
/// `credential_process`) is still an error.
final class PlaceholderFallbackCredentials: CredentialProvider {
    let base: any CredentialProvider
    let endpoint: String
    private let noted = Mutex(false)

    init(_ base: any CredentialProvider, endpoint: String) {
        self.base = base
        self.endpoint = endpoint
    }

    var name: String { base.name }

    func credentials(logger: Logger) async throws -> AWSCredentialIdentity {
        do {
            return try await base.credentials(logger: logger)
        } catch let error as CredentialProviderError where error.code == .noCredentials {
            if noted.withLock({ noted in defer { noted = true }; return !noted }) {
                LocalEndpoint.note("no AWS credentials set; signing with placeholder credentials for the local endpoint \(endpoint)")
            }
            return LocalEndpoint.placeholderCredentials
        }
    }

    func invalidate() { base.invalidate() }
}
