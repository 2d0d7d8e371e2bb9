extension KinesisLocal {
    /// How a KinesisLocal server behaves. Every default mimics current AWS.
    public struct Configuration: Sendable {
        /// The address to bind. Default `127.0.0.1`.
        public var host: String
        /// The port; `0` picks a free one. Default `0`.
        public var port: Int
        /// The account id in ARNs and error messages. Default `123456789012`.
        public var account: String
        /// The region of ``streams``, of the admin endpoint and of the Swift API (``KinesisLocal/reshard(stream:shardCount:)``
        /// and the rest). Requests see the streams of the region they are signed for, so the same name in two
        /// regions is two streams. Default `us-east-1`.
        public var region: String
        /// Streams that exist from the start.
        public var streams: [StreamSpec]
        /// Per-shard write limits. Default on: 1000 records/s and 1 MiB/s per shard, one second of burst.
        public var shardLimits: ShardLimits
        /// The account's quotas per region, which the API enforces and DescribeLimits reports. Default AWS's.
        public var accountLimits: AccountLimits
        /// The largest PutRecords request, counted as data plus partition keys. Default 10 MiB (5 MiB mimics
        /// older limits and moto).
        public var maxRequestBytes: Int
        /// How requests are authenticated. Default: any well-formed SigV4 `Authorization` header.
        public var authentication: Authentication
        /// Injected failures; changeable at run time. Default none.
        public var faults: Faults
        /// How many records each stream keeps before dropping its oldest.
        public var retention: Retention
        /// Serve HTTPS with this certificate (``TLS/selfSigned(in:hosts:)`` makes one). Default `nil`: plain HTTP.
        public var tls: TLS?
        /// How long a SubscribeToShard answer streams before it ends (the consumer subscribes again). Default 5
        /// minutes, AWS's.
        public var subscriptionLifetime: Duration
        /// Event loop threads. Default 1: the server is meant to cost one core at most.
        public var threads: Int
        /// The bearer token every `/_admin/` request must carry (`Authorization: Bearer TOKEN`); `nil` (the
        /// default) draws a random one at start (``KinesisLocal/adminToken``), so nobody who merely reaches the port
        /// can change faults or read the stored records.
        public var adminToken: String?
        /// Connections served at once; a request on a connection beyond this is answered 503 and the connection
        /// closed (within a second if it sends nothing). Default 1024, so a client
        /// opening sockets in a loop cannot exhaust the server's file descriptors.
        public var maxConnections: Int
        /// A connection with no request in progress and nothing sent or received for this long is closed.
        /// Default 60 seconds (above AWS SDKs' idle pool timeouts, so a kept-alive client connection is theirs to
        /// close); zero turns it off.
        public var idleTimeout: Duration

        /// A stream to create at start.
        public struct StreamSpec: Sendable, Hashable {
            /// The stream name.
            public var name: String
            /// Shards of a provisioned stream.
            public var shardCount: Int
            /// On-demand mode (4 shards).
            public var onDemand: Bool
            /// The largest record (data plus key), 1024–10240 KiB.
            public var maxRecordSizeInKiB: Int

            /// A provisioned stream with `shardCount` shards, or an on-demand one (4 shards).
            public init(name: String, shardCount: Int = 4, onDemand: Bool = false, maxRecordSizeInKiB: Int = 1024) {
                self.name = name
                self.shardCount = shardCount
                self.onDemand = onDemand
                self.maxRecordSizeInKiB = maxRecordSizeInKiB
            }
        }

        /// Per-shard write limits.
        public struct ShardLimits: Sendable, Hashable {
            /// Whether the limits apply.
            public var enabled: Bool
            /// Records per second per shard.
            public var recordsPerSecond: Double
            /// Bytes (data plus keys) per second per shard.
            public var bytesPerSecond: Double

            /// Kinesis's limits, on.
            public init(enabled: Bool = true, recordsPerSecond: Double = 1000, bytesPerSecond: Double = 1_048_576) {
                self.enabled = enabled
                self.recordsPerSecond = recordsPerSecond
                self.bytesPerSecond = bytesPerSecond
            }

            /// No limits: the server takes everything as fast as it can.
            public static let off = ShardLimits(enabled: false)
        }

        /// An account's quotas in each region. The streams of ``Configuration/streams`` count against them but are
        /// created even past them (a test may want a stream larger than an account's default quota).
        public struct AccountLimits: Sendable, Hashable {
            /// Open shards across the region's streams; `nil` (the default) is AWS's default quota: 500 in
            /// us-east-1, us-west-2 and eu-west-1, 200 elsewhere.
            public var shards: Int?
            /// Streams in on-demand mode. Default 50, AWS's.
            public var onDemandStreams: Int
            /// Enhanced fan-out consumers registered on one stream. Default 20, AWS's.
            public var consumersPerStream: Int

            /// Quotas; every parameter has the documented default.
            public init(shards: Int? = nil, onDemandStreams: Int = 50, consumersPerStream: Int = 20) {
                self.shards = shards
                self.onDemandStreams = onDemandStreams
                self.consumersPerStream = consumersPerStream
            }

            /// The open-shard quota in `region`.
            public func shardLimit(in region: String) -> Int {
                shards ?? (["us-east-1", "us-west-2", "eu-west-1"].contains(region) ? 500 : 200)
            }
        }

        /// Authentication modes.
        public struct Authentication: Sendable, Hashable {
            /// Credentials accepted in strict mode.
            public struct AccessKey: Sendable, Hashable {
                /// The access key id requests are signed with.
                public var accessKeyID: String
                /// Its secret.
                public var secretAccessKey: String
                /// When set, requests must carry this `X-Amz-Security-Token`.
                public var sessionToken: String?

                /// A key strict mode accepts.
                public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
                    self.accessKeyID = accessKeyID
                    self.secretAccessKey = secretAccessKey
                    self.sessionToken = sessionToken
                }
            }

            /// Empty: any well-formed signature passes. Otherwise signatures are verified against these keys.
            public var strictKeys: [AccessKey]
            /// How far `X-Amz-Date` may be from the server clock in strict mode. Default 5 minutes, as Kinesis.
            public var allowedClockSkew: Duration

            /// Any well-formed SigV4 `Authorization` header is accepted.
            public static let acceptAny = Authentication(strictKeys: [])

            /// Signatures are verified against `keys`.
            public static func strict(_ keys: [AccessKey]) -> Authentication { Authentication(strictKeys: keys) }

            /// Strict when `strictKeys` is not empty.
            public init(strictKeys: [AccessKey], allowedClockSkew: Duration = .seconds(300)) {
                self.strictKeys = strictKeys
                self.allowedClockSkew = allowedClockSkew
            }
        }

        /// The retention cap of each stream: past either bound the oldest records are dropped, so a long benchmark
        /// does not grow memory without bound.
        public struct Retention: Sendable, Hashable {
            /// Default 2,000,000 records.
            public var maxRecords: Int
            /// Default 512 MiB of record data.
            public var maxBytes: Int

            /// A cap; both bounds apply.
            public init(maxRecords: Int = 2_000_000, maxBytes: Int = 512 << 20) {
                self.maxRecords = maxRecords
                self.maxBytes = maxBytes
            }
        }

        /// A configuration; every parameter has the documented default.
        public init(
            host: String = "127.0.0.1",
            port: Int = 0,
            account: String = "123456789012",
            region: String = "us-east-1",
            streams: [StreamSpec] = [],
            shardLimits: ShardLimits = ShardLimits(),
            accountLimits: AccountLimits = AccountLimits(),
            maxRequestBytes: Int = 10 << 20,
            authentication: Authentication = .acceptAny,
            faults: Faults = Faults(),
            retention: Retention = Retention(),
            threads: Int = 1,
            adminToken: String? = nil,
            maxConnections: Int = 1024,
            idleTimeout: Duration = .seconds(60),
            subscriptionLifetime: Duration = .seconds(300),
            tls: TLS? = nil
        ) {
            self.host = host
            self.port = port
            self.account = account
            self.region = region
            self.streams = streams
            self.shardLimits = shardLimits
            self.accountLimits = accountLimits
            self.maxRequestBytes = maxRequestBytes
            self.authentication = authentication
            self.faults = faults
            self.retention = retention
            self.threads = max(1, threads)
            self.adminToken = adminToken
            self.maxConnections = max(1, maxConnections)
            self.idleTimeout = idleTimeout
            self.subscriptionLifetime = subscriptionLifetime
            self.tls = tls
        }

        /// The largest request body read: a PutRecords of ``maxRequestBytes`` of data is about 4/3 of that in
        /// base64, plus partition keys (up to 6 bytes a character escaped) and JSON around it; half again plus
        /// 1 MiB covers it (16 MiB for the default 10 MiB). Larger bodies are answered 413 before they are read.
        public var maxBodyBytes: Int {
            let (half, overflow) = maxRequestBytes.multipliedReportingOverflow(by: 3)
            return overflow ? Int.max : half / 2 + (1 << 20)
        }
    }
}
