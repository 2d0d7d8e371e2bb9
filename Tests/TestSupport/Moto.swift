import Foundation

/// Where the tests find moto_server (started by `scripts/with-moto.sh`, which `.ci/run` uses).
///
/// `KINESIS_PUSHER_MOTO_URL` is a moto with signature checking off; `KINESIS_PUSHER_MOTO_AUTH_URL` one with it on
/// (`INITIAL_NO_AUTH_ACTION_COUNT`). Without them the integration tests are skipped locally; in CI they must be set.
public enum Moto {
    public static var url: String? { ProcessInfo.processInfo.environment["KINESIS_PUSHER_MOTO_URL"].flatMap { $0.isEmpty ? nil : $0 } }
    public static var authURL: String? {
        ProcessInfo.processInfo.environment["KINESIS_PUSHER_MOTO_AUTH_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }
    public static var isAvailable: Bool { url != nil }
    public static var isAuthAvailable: Bool { authURL != nil }

    /// A stream name no other test uses.
    public static func uniqueName(_ prefix: String) -> String {
        "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// An environment with nothing that could reach the real EC2 metadata service or pick up a developer's files.
    public static func isolatedEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
        var environment = [
            "HOME": "/nonexistent-kinesis-pusher-home",
            "AWS_EC2_METADATA_DISABLED": "true",
        ]
        environment.merge(extra) { _, new in new }
        return environment
    }
}
