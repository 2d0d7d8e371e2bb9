/// A record that could not be delivered, as the failure handler of `send` receives it.
public struct RunnerFailure: Sendable {
    /// The record as it was sent.
    public var record: Record
    /// Why it failed.
    public var error: RunnerError
}
