// The names of the producer's types before they took the Runner stem (one stem for the package's types).

/// Renamed ``RunnerError``.
@available(*, deprecated, renamed: "RunnerError")
public typealias ProducerError = RunnerError

/// Renamed ``RunnerBatchError``.
@available(*, deprecated, renamed: "RunnerBatchError")
public typealias ProducerBatchError = RunnerBatchError

/// Renamed ``RunnerFailure``.
@available(*, deprecated, renamed: "RunnerFailure")
public typealias ProducerFailure = RunnerFailure
