import Foundation

/// Facts about where the tests run.
public enum TestEnvironment {
    /// `CI=true`: a test whose peer is missing (moto, aws-kinesis-agg) fails instead of being skipped.
    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }
}
