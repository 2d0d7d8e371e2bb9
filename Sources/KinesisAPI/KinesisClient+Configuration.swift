import AWSCredentials
import Backoff
import Foundation

extension KinesisClient {
    /// How a ``KinesisClient`` reaches Kinesis.
    public struct Configuration: Sendable {
        /// The region requests are signed for.
        public var region: String
        /// Where requests go; resolved from the region (with ``useFIPS`` and ``useDualStack``) unless overridden.
        public var endpoint: KinesisEndpoint
        /// Timeouts, connection pool and response limits of the HTTP layer.
        public var http: HTTP
        /// How the client itself retries throttled and transient failures (including control-plane calls).
        public var retry: Retry
        /// Bounds on following ListShards and DescribeStream pages.
        public var listing: Listing
        /// Sent as `User-Agent` (not signed).
        public var userAgent: String
        /// Repeat `StreamName`/`StreamARN` on ListShards follow-up pages. AWS rejects that; moto requires it. Tests only.
        package var repeatsStreamOnListShardsPages = false

        /// HTTP settings.
        public struct HTTP: Sendable {
            /// How long to wait for a TCP (and TLS) connection. Default 2 seconds.
            public var connectTimeout: Duration
            /// How long one request may take, from send to the end of the answer. Default 6 seconds (the KPL's).
            public var requestTimeout: Duration
            /// Connections kept per host. Default 16.
            public var maxConnections: Int
            /// How long an idle pooled connection is kept. Default 60 seconds.
            public var idleTimeout: Duration
            /// The largest answer read (GetRecords can return 10 MiB of data, base64-encoded). Default 32 MiB.
            public var maxResponseBytes: Int
            /// A PEM file of the certificate authorities to trust instead of the system's, for an endpoint with its
            /// own CA (a corporate one, or `kinesis-pusher local --tls`). Default `nil`: the system's.
            /// ``Configuration/resolve(region:profile:endpoint:caBundle:useFIPS:useDualStack:environment:)`` fills it
            /// from `AWS_CA_BUNDLE` or the profile's `ca_bundle`, as the AWS CLI does.
            public var caBundlePath: String?

            /// Creates HTTP settings; every parameter has the documented default.
            public init(
                connectTimeout: Duration = .seconds(2),
                requestTimeout: Duration = .seconds(6),
                maxConnections: Int = 16,
                idleTimeout: Duration = .seconds(60),
                maxResponseBytes: Int = 32 << 20,
                caBundlePath: String? = nil
            ) {
                self.connectTimeout = connectTimeout
                self.requestTimeout = requestTimeout
                self.maxConnections = maxConnections
                self.idleTimeout = idleTimeout
                self.maxResponseBytes = maxResponseBytes
                self.caBundlePath = caBundlePath
            }
        }

        /// How far a shard listing (``KinesisClient/listShards(stream:filter:pageSize:)``,
        /// ``KinesisClient/describeStream(stream:)``) follows an endpoint's pages: one that pages forever, repeats a
        /// page token or answers every page slowly ends with an error instead of hanging or growing a producer.
        public struct Listing: Sendable {
            /// Pages followed at most. Default 10,000 (AWS answers up to 1,000 shards a page).
            public var maxPages: Int
            /// Shards collected at most. Default 100,000 (well above AWS's default shard quotas).
            public var maxShards: Int
            /// The whole listing, every page and retry included, must finish within this. Default 120 seconds.
            public var timeout: Duration

            /// Creates listing bounds; every parameter has the documented default.
            public init(maxPages: Int = 10_000, maxShards: Int = 100_000, timeout: Duration = .seconds(120)) {
                self.maxPages = max(1, maxPages)
                self.maxShards = max(1, maxShards)
                self.timeout = timeout
            }
        }

        /// Retry settings: exponential backoff with full jitter, `baseDelay × 2^attempt` capped at `maxDelay`.
        public struct Retry: Sendable {
            /// Attempts per call, the first included; `1` disables retries (a producer retries per record instead).
            /// Default 3.
            public var maxAttempts: Int
            /// The first backoff's upper bound. Default 50 ms.
            public var baseDelay: Duration
            /// The largest backoff. Default 2 seconds.
            public var maxDelay: Duration
            /// Seeds the generator that draws the jitter, so a run can be replayed; `nil` (the default) seeds it
            /// from the system.
            public var jitterSeed: UInt64?

            /// Creates retry settings; every parameter has the documented default.
            public init(
                maxAttempts: Int = 3,
                baseDelay: Duration = .milliseconds(50),
                maxDelay: Duration = .seconds(2),
                jitterSeed: UInt64? = nil
            ) {
                self.maxAttempts = max(1, maxAttempts)
                self.baseDelay = baseDelay
                self.maxDelay = maxDelay
                self.jitterSeed = jitterSeed
            }

            var backoff: ExponentialBackoff { ExponentialBackoff(base: baseDelay, cap: maxDelay) }
        }

        /// A configuration for `region` and its standard endpoint (or `endpoint` when given).
        public init(
            region: String,
            endpoint: KinesisEndpoint? = nil,
            http: HTTP = HTTP(),
            retry: Retry = Retry(),
            listing: Listing = Listing(),
            userAgent: String = "kinesis-pusher/0.1"
        ) throws {
            self.region = region
            self.endpoint = try endpoint ?? KinesisEndpoint.resolve(region: region)
            self.http = http
            self.retry = retry
            self.listing = listing
            self.userAgent = userAgent
        }

        /// Resolves region and endpoint the way the AWS tools do.
        ///
        /// Region: `region`, `AWS_REGION`, `AWS_DEFAULT_REGION`, then the profile's `region`. Endpoint: `endpoint`,
        /// `AWS_ENDPOINT_URL_KINESIS`, `AWS_ENDPOINT_URL`, else the partition table with `AWS_USE_FIPS_ENDPOINT` and
        /// `AWS_USE_DUALSTACK_ENDPOINT` (or the arguments). A custom endpoint together with FIPS or dual-stack is an
        /// error, since no table entry is used.
        public static func resolve(
            region: String? = nil,
            profile: String? = nil,
            endpoint: String? = nil,
            caBundle: String? = nil,
            useFIPS: Bool? = nil,
            useDualStack: Bool? = nil,
            environment: [String: String] = ProcessEnvironment.current
        ) throws -> Configuration {
            var configuration = try resolveEndpoint(region: region, profile: profile, endpoint: endpoint, useFIPS: useFIPS, useDualStack: useDualStack, environment: environment)
            configuration.http.caBundlePath = try resolveCABundle(explicit: caBundle, profile: profile, environment: environment)
            return configuration
        }

        /// The CA bundle as the AWS CLI finds it: explicit, then `AWS_CA_BUNDLE`, then the profile's `ca_bundle`;
        /// `nil` for the system's trust store. A named file that is not there is an error naming where it came from.
        static func resolveCABundle(explicit: String?, profile: String?, environment: [String: String]) throws -> String? {
            var found: (path: String, source: String)?
            if let explicit, !explicit.isEmpty {
                found = (explicit, "--ca-bundle")
            } else if let path = environment["AWS_CA_BUNDLE"], !path.isEmpty {
                found = (path, "AWS_CA_BUNDLE")
            } else {
                let name = profile ?? AWSSharedConfiguration.selectedProfileName(environment: environment)
                if let path = try AWSSharedConfiguration.load(environment: environment).profiles[name]?["ca_bundle"], !path.isEmpty {
                    found = (path, "ca_bundle of profile \(name)")
                }
            }
            guard let found else { return nil }
            guard FileManager.default.isReadableFile(atPath: found.path) else {
                throw KinesisError(code: .invalidRequest, message: "the CA bundle \(found.path) (from \(found.source)) is not a readable file", operation: "ResolveEndpoint")
            }
            return found.path
        }

        static func resolveEndpoint(
            region: String?,
            profile: String?,
            endpoint: String?,
            useFIPS: Bool?,
            useDualStack: Bool?,
            environment: [String: String]
        ) throws -> Configuration {
            let resolvedRegion = try AWSRegionResolver.resolve(explicit: region, profile: profile, environment: environment)
            let fips = useFIPS ?? (environment["AWS_USE_FIPS_ENDPOINT"]?.lowercased() == "true")
            let dualStack = useDualStack ?? (environment["AWS_USE_DUALSTACK_ENDPOINT"]?.lowercased() == "true")
            let custom = [endpoint, environment["AWS_ENDPOINT_URL_KINESIS"], environment["AWS_ENDPOINT_URL"]]
                .compactMap { $0 }.first { !$0.isEmpty }
            if let custom {
                if fips || dualStack {
                    throw KinesisError(
                        code: .invalidRequest,
                        message: "a custom endpoint (\(custom)) cannot be combined with FIPS or dual-stack endpoints",
                        operation: "ResolveEndpoint"
                    )
                }
                return try Configuration(region: resolvedRegion, endpoint: KinesisEndpoint(url: custom))
            }
            return try Configuration(
                region: resolvedRegion,
                endpoint: KinesisEndpoint.resolve(region: resolvedRegion, useFIPS: fips, useDualStack: dualStack)
            )
        }
    }
}
