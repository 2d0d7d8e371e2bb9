// swift-tools-version: 6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "kinesis-pusher",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "AWSSigning", targets: ["AWSSigning"]),
        .library(name: "AWSCredentials", targets: ["AWSCredentials"]),
        .library(name: "KinesisAPI", targets: ["KinesisAPI"]),
        .library(name: "KinesisLocal", targets: ["KinesisLocal"]),
        .library(name: "KinesisPusher", targets: ["KinesisPusher"]),
        .library(name: "KinesisAggregation", targets: ["KinesisAggregation"]),
        .library(name: "KinesisPusherPrometheus", targets: ["KinesisPusherPrometheus"]),
        .library(name: "KinesisPusherHummingbird", targets: ["KinesisPusherHummingbird"]),
        .library(name: "KinesisPusherFiles", targets: ["KinesisPusherFiles"]),
        .executable(name: "kinesis-pusher", targets: ["kinesis-pusher"]),
    ],
    dependencies: [
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.0"),
        .package(url: "https://github.com/swift-extras/swift-extras-base64", from: "1.2.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
    ],
    targets: [
        // The rules written once: exponential backoff with full jitter, the seeded generator it draws from, a
        // Duration in seconds or nanoseconds, and which hosts are loopback (parsed, never matched by prefix).
        .target(name: "Backoff", swiftSettings: swiftSettings),
        // SigV4: canonical request, string to sign, signing-key cache. Pure value types, no I/O.
        .target(
            name: "AWSSigning",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        // Credential providers and the default chain, shared config files, region resolution.
        .target(
            name: "AWSCredentials",
            dependencies: [
                "Backoff",
                "AWSSigning",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The Kinesis JSON 1.1 client: endpoints, operations, the PutRecords writer, errors.
        .target(
            name: "KinesisAPI",
            dependencies: [
                "Backoff",
                "AWSSigning",
                "AWSCredentials",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ExtrasBase64", package: "swift-extras-base64"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        // The KPL aggregated record format, written and read by hand (no protobuf dependency).
        .target(
            name: "KinesisAggregation",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        // The producer: Runner, its state machine and pipeline stages.
        .target(
            name: "KinesisPusher",
            dependencies: [
                "Backoff",
                "KinesisAPI",
                "KinesisAggregation",
                "AWSCredentials",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // Prometheus exposition of the runner's metrics: registry, /metrics endpoint with Basic Auth, standalone server.
        .target(
            name: "KinesisPusherPrometheus",
            dependencies: [
                "KinesisPusher",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ExtrasBase64", package: "swift-extras-base64"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The /metrics route for Hummingbird 2 apps, in its own product so the core needs no web framework.
        .target(
            name: "KinesisPusherHummingbird",
            dependencies: [
                "KinesisPusherPrometheus",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // An embedded Kinesis-compatible server (SwiftNIO); never imported by the producer.
        .target(
            name: "KinesisLocal",
            dependencies: [
                "Backoff",
                "AWSSigning",
                "KinesisAPI",
                "KinesisAggregation",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: swiftSettings
        ),
        // The `push` command's input: lines split off a file descriptor, NDJSON partition keys, random partition keys.
        .target(
            name: "LineInput",
            dependencies: ["Backoff"],
            swiftSettings: swiftSettings
        ),
        // Shipping files: a follower through rotation (`tail -F`), file identities, checkpoints on disk.
        .target(
            name: "KinesisPusherFiles",
            dependencies: ["Backoff", "LineInput", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "kinesis-pusher",
            dependencies: [
                "Backoff",
                "LineInput",
                "KinesisPusherFiles",
                "KinesisAPI",
                "KinesisAggregation",
                "KinesisPusher",
                "KinesisPusherPrometheus",
                .product(name: "Metrics", package: "swift-metrics"),
                "KinesisLocal",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                "AWSCredentials",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TestSupport",
            dependencies: [
                "Backoff",
                "AWSSigning",
                "AWSCredentials",
                "KinesisAPI",
                "KinesisLocal",
                "KinesisPusher",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "BackoffTests", dependencies: ["Backoff", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "AWSSigningTests", dependencies: ["AWSSigning", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "KinesisAggregationTests", dependencies: ["KinesisAggregation", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "KinesisPusherFilesTests", dependencies: ["KinesisPusherFiles", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "LineInputTests", dependencies: ["LineInput", "Backoff", "KinesisAPI", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "AWSCredentialsTests",
            dependencies: [
                "AWSCredentials",
                "AWSSigning",
                "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KinesisAPITests",
            dependencies: [
                "Backoff",
                "KinesisAPI",
                .product(name: "Crypto", package: "swift-crypto"),
                "AWSCredentials",
                "AWSSigning",
                "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KinesisLocalTests",
            dependencies: [
                "Backoff",
                "KinesisLocal",
                "KinesisAPI",
                "AWSCredentials",
                "AWSSigning",
                "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KinesisPusherTests",
            dependencies: [
                "Backoff",
                "KinesisPusher",
                "KinesisLocal",
                "KinesisAPI",
                "AWSCredentials",
                "AWSSigning",
                "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The CLI's contract, run as child processes of the built `kinesis-pusher` against an in-process KinesisLocal.
        .testTarget(
            name: "KinesisPusherCLITests",
            dependencies: [
                "KinesisLocal",
                "KinesisAPI",
                "AWSCredentials",
                "AWSSigning",
                "TestSupport",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KinesisPusherMetricsTests",
            dependencies: [
                "KinesisPusher",
                "KinesisPusherPrometheus",
                "KinesisPusherHummingbird",
                "KinesisLocal",
                "AWSCredentials",
                "AWSSigning",
                "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer targets, only when KINESIS_PUSHER_FUZZ is set (scripts/fuzz.sh sets it and builds them with
// `-sanitize=fuzzer` in its own scratch path), so the normal build never sees them. Each is Fuzz/<name>/: a test
// function and a main.swift that hands it to libFuzzer through FuzzSupport and FuzzDriver (SwiftPM renames an
// executable's `main`, so libFuzzer's own cannot be used).
if Context.environment["KINESIS_PUSHER_FUZZ"] != nil {
    let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
        ("FuzzPutRecordsResponse", ["KinesisAPI", .product(name: "NIOCore", package: "swift-nio")]),
        ("FuzzErrorResponse", ["KinesisAPI", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio")]),
        ("FuzzSharedConfig", ["AWSCredentials"]),
        ("FuzzLineInput", ["LineInput"]),
        ("FuzzAggregation", ["KinesisAggregation", .product(name: "Crypto", package: "swift-crypto")]),
        ("FuzzLocalRequest", ["KinesisLocal", .product(name: "NIOCore", package: "swift-nio")]),
        (
            "FuzzLocalBackend",
            [
                "KinesisLocal", "AWSSigning", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
    package.targets.append(.target(name: "FuzzDriver", path: "Fuzz/FuzzDriver"))
    package.targets.append(.target(name: "FuzzSupport", dependencies: ["FuzzDriver"], path: "Fuzz/FuzzSupport", swiftSettings: swiftSettings))
    for target in fuzzTargets {
        package.targets.append(
            .executableTarget(
                name: target.name,
                dependencies: ["FuzzSupport"] + target.dependencies,
                path: "Fuzz/\(target.name)",
                swiftSettings: swiftSettings
            )
        )
    }
}
