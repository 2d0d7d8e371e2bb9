import KinesisPusher

/// Collects what a runner's failure handler receives.
public final class FailureLog: Sendable {
    public let failures = Locked<[RunnerFailure]>([])

    public init() {}

    public var handler: @Sendable (RunnerFailure) -> Void {
        { failure in self.failures.withLock { $0.append(failure) } }
    }

    public var count: Int { failures.withLock { $0.count } }
    public var codes: [RunnerError.Code] { failures.withLock { $0.map(\.error.code) } }
    public var keys: [String] { failures.withLock { $0.map(\.record.partitionKey) } }
}
