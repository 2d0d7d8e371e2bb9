// swift-tools-version: 6.2
import Foundation
import PackageDescription

// A path dependency is known by its folder's name (the clone's, whatever it is called), not by its manifest's
// name, so the root package's identity is read off the path.
let root = URL(fileURLWithPath: Context.packageDirectory).appendingPathComponent("../..").standardizedFileURL
let kinesisPusher = root.lastPathComponent.lowercased()

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

// What the app imports; its tests import the same, and more.
let appDependencies: [Target.Dependency] = [
    .product(name: "AWSCredentials", package: kinesisPusher),
    .product(name: "KinesisPusher", package: kinesisPusher),
    .product(name: "KinesisPusherPrometheus", package: kinesisPusher),
    .product(name: "KinesisPusherHummingbird", package: kinesisPusher),
    .product(name: "Hummingbird", package: "hummingbird"),
    .product(name: "HTTPTypes", package: "swift-http-types"),
    .product(name: "Logging", package: "swift-log"),
    .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
    .product(name: "UnixSignals", package: "swift-service-lifecycle"),
]

let package = Package(
    name: "HummingbirdApp",
    platforms: [.macOS(.v15)],
    products: [.executable(name: "events-app", targets: ["EventsApp"])],
    dependencies: [
        .package(path: "../.."),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // The app: POST /events into a Kinesis stream through the Runner, GET /metrics, GET /health.
        .executableTarget(
            name: "EventsApp",
            dependencies: appDependencies,
            swiftSettings: swiftSettings
        ),
        // The routes against an in-process KinesisLocal (`swift test --package-path Examples/HummingbirdApp`).
        .testTarget(
            name: "EventsAppTests",
            dependencies: appDependencies + [
                "EventsApp",
                .product(name: "AWSSigning", package: kinesisPusher),
                .product(name: "KinesisLocal", package: kinesisPusher),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
