// swift-tools-version: 6.2
import PackageDescription

// Micro-benchmarks (ordo-one/package-benchmark), in their own package so the main build never resolves or
// builds the benchmark tooling. Run from the repository root:
//
//     swift package --package-path Benchmarks benchmark          # or scripts/microbench.sh
//
// package-benchmark 1.38.1 counts allocations with its malloc interposer on Swift 6.3 (no jemalloc needed). Only
// the `MallocInterposer` trait is enabled: the default `RuntimeInterposer` trait (ARC counters on Linux with Swift
// 6.3) needs swift-runtime-interposer, which is not among the packages this project may use.
let package = Package(
    name: "KinesisPusherBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "kinesis-pusher", path: ".."),  // named, so the checkout folder's name does not matter
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
    ],
    targets: [
        // The plugin looks for benchmark executables in folders whose parent is named `Benchmarks`: this one.
        .executableTarget(
            name: "KinesisPusherBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "AWSSigning", package: "kinesis-pusher"),
                .product(name: "KinesisAPI", package: "kinesis-pusher"),
                .product(name: "KinesisAggregation", package: "kinesis-pusher"),
                .product(name: "KinesisPusher", package: "kinesis-pusher"),
                .product(name: "KinesisLocal", package: "kinesis-pusher"),
                .product(name: "AWSCredentials", package: "kinesis-pusher"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "KinesisPusherBenchmarks",
            swiftSettings: [
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("MemberImportVisibility"),
            ],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ],
    swiftLanguageModes: [.v6]
)
