import AWSCredentials
import AsyncHTTPClient
import CoreMetrics
import KinesisAPI
import Metrics
import Logging
import Synchronization

/// The producer: takes records, batches them into PutRecords, paces them to what the shards take, retries what
/// fails, and gives every accepted record exactly one outcome.
///
/// The seed's surface, Swift-shaped:
///
/// ```swift
/// let runner = Runner(bufferSize: 1000, maxConcurrentPuts: 10)
///     .withIntervals(shardRefresh: .seconds(30), flush: .milliseconds(100))
///     .withAsync()
/// try runner.configure(AWSConfig(region: "us-east-1", profile: "default", streamName: "test-stream"))
/// let openShards = try await runner.checkShards()
/// // run() is the long-running loop; Runner is a swift-service-lifecycle Service.
/// try await withThrowingTaskGroup(of: Void.self) { group in
///     group.addTask { try await runner.run() }
///     try await runner.send(Record(text: "hello\n", partitionKey: "pk-1"))
///     await runner.shutdown()
/// }
/// ```
///
/// `send` suspends while the buffer is full (backpressure, never a silent drop); `trySend` never suspends;
/// `put` returns once Kinesis acknowledged the record. Memory is bounded: at most `bufferSize` records wait, plus
/// what is in flight (`maxConcurrentPuts` × 500 records in async mode).
public final class Runner: Sendable {
    struct Settings {
        var configuration: RunnerConfiguration
        var aws: AWSConfig?
        var clientConfiguration: KinesisClient.Configuration?
        var credentialProvider: (any CredentialProvider)?
        var explicitCredentialProvider: (any CredentialProvider)?
        var control: KinesisClient?
        var metrics: RunnerMetrics?
        var runState = RunState.notStarted
        var finishWaiters: [CheckedContinuation<Void, Never>] = []
    }

    enum RunState {
        case notStarted, running, finished
    }

    let settings: Mutex<Settings>
    let state: StateLock<RunnerStateMachine>
    let wakeStream: AsyncStream<Void>
    let wakeContinuation: AsyncStream<Void>.Continuation
    /// The size limits `validate` checks, readable without the state lock (one lock per record is enough).
    let maxRecordBytes = Atomic(1_048_576)
    let maxRequestBytes: Atomic<Int>

    /// A runner with the seed's two numbers: `bufferSize` records may wait, `maxConcurrentPuts` calls may be in
    /// flight in async mode.
    public convenience init(bufferSize: Int = 1000, maxConcurrentPuts: Int = 10) {
        self.init(configuration: RunnerConfiguration(buffer: .init(size: bufferSize), concurrency: .init(maxConcurrentPuts: maxConcurrentPuts)))
    }

    /// A runner with a full configuration.
    public init(configuration: RunnerConfiguration) {
        settings = Mutex(Settings(configuration: configuration))
        let limits = RunnerStateMachine.Limits(configuration)
        state = StateLock(RunnerStateMachine(limits: limits, rateLimitPercent: configuration.pacing.rateLimitPercent, jitterSeed: configuration.retry.jitterSeed))
        maxRequestBytes = Atomic(limits.maxRequestBytes)
        (wakeStream, wakeContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// The configuration in force (builder methods change it until ``run()`` starts).
    public var configuration: RunnerConfiguration {
        settings.withLock { $0.configuration }
    }

    /// The counters now.
    public var stats: RunnerStats {
        state.withLock { $0.snapshot }
    }

    func wake() {
        wakeContinuation.yield()
    }

    /// Changes the configuration; ignored (with a warning) once ``run()`` has started or records were sent.
    @discardableResult
    func updating(_ change: (inout RunnerConfiguration) -> Void) -> Runner {
        let (logger, refusal): (Logger, String?) = settings.withLock { settings in
            guard case .notStarted = settings.runState else {
                return (settings.configuration.logger, "runner options changed after run() started; the change is ignored")
            }
            var configuration = settings.configuration
            change(&configuration)
            let limits = RunnerStateMachine.Limits(configuration)
            // The state machine is rebuilt from the new limits: only while it holds nothing a caller gave it.
            let replaced = state.withLock { state in
                guard !state.hasTakenRecords else { return false }
                state = RunnerStateMachine(limits: limits, rateLimitPercent: configuration.pacing.rateLimitPercent, jitterSeed: configuration.retry.jitterSeed)
                return true
            }
            guard replaced else {
                return (settings.configuration.logger, "runner options changed after records were sent; the change is ignored (it would drop them)")
            }
            settings.configuration = configuration
            maxRequestBytes.store(limits.maxRequestBytes, ordering: .relaxed)
            return (configuration.logger, nil)
        }
        if let refusal { logger.warning("\(refusal)") }
        return self
    }

    // MARK: Configure and check

    /// Resolves region, endpoint and credentials for the stream (the seed's `Configure`).
    ///
    /// Region and endpoint follow the AWS tools' rules (explicit, then `AWS_REGION` / `AWS_ENDPOINT_URL_KINESIS`
    /// and friends, then the profile). Credentials come from the default chain for `aws.profile`, unless
    /// ``withCredentialProvider(_:)`` set a provider.
    public func configure(_ aws: AWSConfig) throws {
        var clientConfiguration = try KinesisClient.Configuration.resolve(
            region: aws.region,
            profile: aws.profile,
            endpoint: aws.endpoint,
            caBundle: aws.caBundle
        )
        try settings.withLock { settings in
            guard case .notStarted = settings.runState else {
                throw RunnerError(.notRunning, message: "configure(_:) must come before run()")
            }
            let configuration = settings.configuration
            clientConfiguration.retry.jitterSeed = configuration.retry.jitterSeed
            // Not `HTTPClient.shared`: it follows redirects, which would carry the signed request (and the
            // credential calls' tokens) to another host.
            let httpClient = configuration.httpClient ?? KinesisClient.sharedHTTPClient(trusting: clientConfiguration.http.caBundlePath)
            let credentials = settings.explicitCredentialProvider
                ?? DefaultCredentialChain.make(profile: aws.profile, httpClient: httpClient, logger: configuration.logger)
            settings.aws = aws
            settings.clientConfiguration = clientConfiguration
            settings.credentialProvider = credentials
            settings.control = KinesisClient(
                configuration: clientConfiguration,
                credentialProvider: credentials,
                httpClient: httpClient,
                logger: configuration.logger
            )
        }
    }

    /// The name and help text of every metric the runner reports, for exporters that show help (`# HELP`).
    public static var metricHelp: [String: String] { RunnerMetrics.help }

    /// ``configure(_:)``, and metrics on: the seed's push delay and records counter (success, failed, recovered),
    /// plus latency, throughput, retries, throttles, buffer and rate-limit gauges, reported to
    /// ``RunnerConfiguration/Metrics/factory`` (or `MetricsSystem.factory`).
    public func configureWithMetrics(_ aws: AWSConfig) throws {
        try configure(aws)
        settings.withLock { settings in
            settings.metrics = RunnerMetrics(
                stream: aws.streamName,
                factory: settings.configuration.metrics.factory ?? MetricsSystem.factory
            )
        }
    }

    var streamIdentifier: StreamIdentifier? {
        settings.withLock { settings in
            settings.aws.map { StreamIdentifier(name: $0.streamName, arn: $0.streamARN) }
        }
    }

    /// Reads the stream's open shards and record size limit, and sets the rate budget from them (the seed's
    /// `CheckShards`). Returns the open shard count.
    ///
    /// Throws a ``RunnerError`` with code ``RunnerError/Code/streamUnusable`` naming the cause when the
    /// stream is missing or the credentials are missing or rejected: there is no point running then.
    @discardableResult
    public func checkShards() async throws -> Int {
        guard let (control, stream) = settings.withLock({ s in s.control.map { ($0, StreamIdentifier(name: s.aws!.streamName, arn: s.aws!.streamARN)) } }) else {
            throw RunnerError(.notRunning, message: "call configure(_:) before checkShards()")
        }
        do {
            let summary = try await control.describeStreamSummary(stream: stream)
            let shards = try await control.listShards(stream: stream, filter: .atLatest)
            let now = ContinuousClock.now
            maxRecordBytes.store(summary.maxRecordSizeInKiB * 1024, ordering: .relaxed)
            let effects = state.withLock { state -> RunnerStateMachine.Effects in
                state.maxRecordBytes = summary.maxRecordSizeInKiB * 1024
                guard !shards.isEmpty else {
                    state.useStreamWideBudget(openShards: summary.openShardCount, now: now)
                    return .init()
                }
                return state.install(ShardMap(openShards: shards), now: now)
            }
            deliver(effects)
            return shards.isEmpty ? summary.openShardCount : shards.count
        } catch let error as KinesisError {
            throw RunnerError(
                .streamUnusable,
                message: Self.describe(error, stream: stream, endpoint: control.configuration.endpoint.url),
                kinesisError: error
            )
        }
    }

    static func describe(_ error: KinesisError, stream: StreamIdentifier, endpoint: String) -> String {
        switch error.code {
        case .resourceNotFound: "stream '\(stream)' not found at \(endpoint): \(error.message)"
        case .credentials: "no usable credentials: \(error.message)"
        case .credentialsUnavailable: "no credentials for now (the source keeps failing): \(error.message)"
        case .transport, .timeout: "cannot reach Kinesis at \(endpoint): \(error.message)"
        default: "\(error.code) from \(endpoint) for stream '\(stream)': \(error.message)"
        }
    }

    // MARK: Intake

    /// Checks a record against Kinesis's limits before it may enter the buffer; returns its routing hash.
    func validate(_ record: Record) throws -> UInt128 {
        let maxRecordBytes = maxRecordBytes.load(ordering: .relaxed)
        let maxRequestBytes = maxRequestBytes.load(ordering: .relaxed)
        // A key of at most 256 UTF-8 bytes has at most 256 characters: only longer ones are counted.
        let keyBytes = record.partitionKey.utf8.count
        let keyLength = keyBytes <= 256 ? keyBytes : record.partitionKey.unicodeScalars.count
        do {
            guard (1...256).contains(keyLength) else {
                throw RunnerError(
                    .invalidRecord,
                    message: "partition key '\(record.partitionKey.prefix(64))' has \(keyLength) characters; Kinesis takes 1 to 256"
                )
            }
            guard record.billedSize <= maxRecordBytes else {
                throw RunnerError(
                    .invalidRecord,
                    message: "record '\(record.partitionKey.prefix(64))' is \(record.billedSize) bytes (data plus partition key); the stream takes at most \(maxRecordBytes)"
                )
            }
            // A record no batch can carry would sit at the head of the buffer and hold up every record behind it.
            guard record.billedSize <= maxRequestBytes else {
                throw RunnerError(
                    .invalidRecord,
                    message: "record '\(record.partitionKey.prefix(64))' is \(record.billedSize) bytes (data plus partition key); a request carries at most \(maxRequestBytes) (maxRequestBytes)"
                )
            }
            if let explicit = record.explicitHashKey {
                guard let key = HashKey(decimal: explicit) else {
                    throw RunnerError(
                        .invalidRecord,
                        message: "explicit hash key '\(explicit.prefix(64))' of record '\(record.partitionKey.prefix(64))' is not a decimal from 0 to 2^128-1"
                    )
                }
                return key.value
            }
            return HashKey(partitionKey: record.partitionKey).value
        } catch {
            state.withLock { $0.countRejected() }
            throw error
        }
    }

    /// Queues a record, suspending while the buffer is full: backpressure, never a silent drop.
    ///
    /// Returns once the record is accepted; its delivery happens in ``run()``. Failures after that go to the
    /// failure handler (``withFailureHandler(_:)``) and the counters. Throws ``RunnerError`` for an invalid
    /// record or after shutdown began, and `CancellationError` if the task is cancelled while waiting (the record
    /// was then never accepted).
    public func send(_ record: Record) async throws {
        let hash = try validate(record)
        // Fast path: room now, so no suspension (a task switch per record would cost more than the rest of send).
        let (id, first) = state.withLock { state in
            let id = state.makeID()
            return (id, state.offer(record, id: id, hash: hash, completion: .handler, resume: nil, mayWait: false, countsRefusal: false, now: .now))
        }
        switch first {
        case .accepted(let wakesLoop):
            if wakesLoop { wake() }
            return
        case .refused(let error):
            throw error
        case .full, .waiting:
            break
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (resume: CheckedContinuation<Void, any Error>) in
                let result = state.withLock {
                    $0.offer(record, id: id, hash: hash, completion: .handler, resume: resume, mayWait: true, now: .now)
                }
                switch result {
                case .accepted(let wakesLoop):
                    resume.resume()
                    if wakesLoop { wake() }
                case .waiting:
                    if Task.isCancelled, let waiter = state.withLock({ $0.cancelWaiter(id: id) }) {
                        waiter.resume?.resume(throwing: CancellationError())
                    }
                case .refused(let error):
                    resume.resume(throwing: error)
                case .full:
                    resume.resume(throwing: RunnerError(.bufferFull, message: "buffer full"))
                }
            }
        } onCancel: {
            if let waiter = state.withLock({ $0.cancelWaiter(id: id) }) {
                waiter.resume?.resume(throwing: CancellationError())
            }
        }
    }

    /// Queues a record if there is room now; never suspends. Returns `false` when the buffer is full.
    @discardableResult
    public func trySend(_ record: Record) throws -> Bool {
        let hash = try validate(record)
        let result = state.withLock { state in
            state.offer(record, id: state.makeID(), hash: hash, completion: .handler, resume: nil, mayWait: false, now: .now)
        }
        switch result {
        case .accepted(let wakesLoop):
            if wakesLoop { wake() }
            return true
        case .full:
            return false
        case .refused(let error):
            throw error
        case .waiting:
            return false
        }
    }

    /// Puts a record and returns once Kinesis acknowledged it: shard, sequence number, attempts.
    ///
    /// Suspends while the buffer is full. Throws ``RunnerError`` when the record is invalid, fails for good
    /// (expired, attempts exhausted, rejected, stream unusable) or shutdown comes first. Cancelling the task while
    /// it waits for buffer space withdraws the record; once accepted, the record runs to its outcome.
    public func put(_ record: Record) async throws -> PutResult {
        let hash = try validate(record)
        let id = state.withLock { $0.makeID() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (outcome: CheckedContinuation<PutResult, any Error>) in
                let result = state.withLock {
                    $0.offer(record, id: id, hash: hash, completion: .continuation(outcome), resume: nil, mayWait: true, now: .now)
                }
                switch result {
                case .accepted(let wakesLoop):
                    if wakesLoop { wake() }
                case .waiting:
                    if Task.isCancelled, state.withLock({ $0.cancelWaiter(id: id) }) != nil {
                        outcome.resume(throwing: CancellationError())
                    }
                case .refused(let error):
                    outcome.resume(throwing: error)
                case .full:
                    outcome.resume(throwing: RunnerError(.bufferFull, message: "buffer full"))
                }
            }
        } onCancel: {
            if let waiter = state.withLock({ $0.cancelWaiter(id: id) }), case .continuation(let outcome) = waiter.record.completion {
                outcome.resume(throwing: CancellationError())
            }
        }
    }

    // MARK: Outcomes

    func deliver(_ effects: RunnerStateMachine.Effects) {
        guard !effects.isEmpty else { return }
        for resume in effects.admitted { resume.resume() }
        for (resume, error) in effects.refused { resume.resume(throwing: error) }
        let (handler, deliveryHandler, logger, metrics) = settings.withLock {
            ($0.configuration.failureHandler, $0.configuration.deliveryHandler, $0.configuration.logger, $0.metrics)
        }
        if let metrics, !effects.latencies.isEmpty { metrics.queueLatencies(effects.latencies) }
        var deliveredTags: [UInt64] = []
        for outcome in effects.outcomes {
            switch outcome.record.completion {
            case .continuation(let continuation):
                continuation.resume(with: outcome.result.mapError { $0 as any Error })
            case .handler:
                switch outcome.result {
                case .success:
                    if deliveryHandler != nil { deliveredTags.append(outcome.record.record.tag) }
                case .failure(let error):
                    logger.debug(
                        "record failed",
                        metadata: ["kinesis.partition_key": "\(outcome.record.record.partitionKey)", "kinesis.error": "\(error)"]
                    )
                    handler?(RunnerFailure(record: outcome.record.record, error: error))
                }
            }
        }
        if let deliveryHandler, !deliveredTags.isEmpty { deliveryHandler(deliveredTags) }
    }
}
