/// ``Runner/send(contentsOf:)`` stopped before its last record: the records before ``acceptedCount`` were
/// accepted (each will get its outcome like any sent record), the one at ``acceptedCount`` was refused for
/// ``error``, and none after it was offered.
public struct RunnerBatchError: Error, Sendable, CustomStringConvertible {
    /// How many records, from the start of the collection, were accepted.
    public var acceptedCount: Int
    /// Why the record at offset ``acceptedCount`` was not: a ``RunnerError`` (an invalid record, shutdown, the
    /// stream unusable) or a `CancellationError` (the task was cancelled while it waited for buffer space).
    public var error: any Error

    /// Creates an error.
    public init(acceptedCount: Int, error: any Error) {
        self.acceptedCount = acceptedCount
        self.error = error
    }

    public var description: String { "record \(acceptedCount) of the batch: \(error)" }
}
