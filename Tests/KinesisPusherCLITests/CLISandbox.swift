import AWSSigning
import Foundation
import TestSupport

/// A temporary HOME and input files for one CLI run, and the exact environment the child gets: a region, the
/// given credentials, no instance metadata, and nothing else from the developer's machine (no profile, no
/// ~/.aws, no AWS_ENDPOINT_URL).
struct CLISandbox {
    let directory: URL

    /// `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`; `nil` leaves them unset.
    static let defaultCredentials = (id: TestKeys.test.accessKeyID, secret: TestKeys.test.secretAccessKey)

    func environment(accessKeyID: String? = defaultCredentials.id, secret: String? = defaultCredentials.secret) -> [String: String] {
        var environment = [
            "HOME": directory.path,
            "PATH": "/usr/bin:/bin",
            "AWS_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": directory.appendingPathComponent("aws-config").path,
            "AWS_SHARED_CREDENTIALS_FILE": directory.appendingPathComponent("aws-credentials").path,
        ]
        environment["AWS_ACCESS_KEY_ID"] = accessKeyID
        environment["AWS_SECRET_ACCESS_KEY"] = secret
        return environment
    }

    /// Writes `lines`, each ended by a newline, into a file of the sandbox.
    func file(_ name: String, lines: [String]) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data(lines.map { $0 + "\n" }.joined().utf8).write(to: url)
        return url
    }

    /// A path in the sandbox where nothing is.
    func missingFile(_ name: String) -> URL { directory.appendingPathComponent(name) }
}

/// Runs `body` with a fresh sandbox, removed afterwards.
func withCLISandbox<T>(_ body: (CLISandbox) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kinesis-pusher-home-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return try await withCleanup {
        try await body(CLISandbox(directory: directory))
    } cleanup: {
        try? FileManager.default.removeItem(at: directory)
    }
}
