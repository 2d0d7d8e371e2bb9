import Foundation

/// Finds the `kinesis-pusher` executable these tests run: `KINESIS_PUSHER_BIN` if set, else the one SwiftPM built
/// next to this test bundle (the products directory, e.g. `.build/x86_64-unknown-linux-gnu/debug`). A missing
/// binary is an error that fails the test, never a skip: the contract would go untested without anyone noticing.
enum KinesisPusherBinary {
    static func url() throws -> URL {
        let fileManager = FileManager.default
        if let override = ProcessInfo.processInfo.environment["KINESIS_PUSHER_BIN"], !override.isEmpty {
            guard fileManager.isExecutableFile(atPath: override) else {
                throw Missing(description: "KINESIS_PUSHER_BIN=\(override) is not an executable file")
            }
            return URL(fileURLWithPath: override)
        }
        var seen: Set<String> = []
        let candidates = productsDirectories().map { $0.appendingPathComponent("kinesis-pusher") }.filter { seen.insert($0.path).inserted }
        if let found = candidates.first(where: { fileManager.isExecutableFile(atPath: $0.path) }) { return found }
        throw Missing(
            description: "kinesis-pusher executable not found (looked at \(candidates.map(\.path).joined(separator: ", "))); "
                + "build it with `swift build --build-tests` or point KINESIS_PUSHER_BIN at it"
        )
    }

    /// The directories the test bundle may have been built into.
    private static func productsDirectories() -> [URL] {
        var directories: [URL] = []
        // Linux: the test bundle is an executable in the products directory.
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            directories.append(URL(fileURLWithPath: executable).deletingLastPathComponent())
        }
        // macOS: the products directory holds the `.xctest` bundle.
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            directories.append(bundle.bundleURL.deletingLastPathComponent())
        }
        if let executable = Bundle.main.executableURL {
            directories.append(executable.deletingLastPathComponent())
        }
        return directories
    }

    struct Missing: Error, CustomStringConvertible {
        var description: String
    }
}
