import Backoff
import AWSCredentials
import AsyncHTTPClient
import CoreMetrics
import KinesisAPI
import KinesisAggregation
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

extension Runner: Service {
    /// The long-running loop (the seed's `go r.Run()`): batches, paces, sends and retries until shutdown.
    ///
    /// Returns after a graceful shutdown (swift-service-lifecycle's, or ``shutdown()``) once everything buffered
    /// was delivered or failed within ``RunnerConfiguration/shutdownTimeout``. Throws ``RunnerError`` with code
    /// ``RunnerError/Code/streamUnusable`` when Kinesis refuses the stream itself (missing stream, access
    /// denied, bad credentials): every record still held has then failed with that error.
    public func run() async throws {
        let setup = try settings.withLock { settings -> (RunnerConfiguration, KinesisClient.Configuration, any CredentialProvider, StreamIdentifier) in
            guard case .notStarted = settings.runState else {
                throw RunnerError(.notRunning, message: "run() was already called on this runner")
            }
            guard let clientConfiguration = settings.clientConfiguration, let credentials = settings.credentialProvider,
                let aws = settings.aws
            else {
                throw RunnerError(.notRunning, message: "call configure(_:) before run()")
            }
            settings.runState = .running
            return (settings.configuration, clientConfiguration, credentials, StreamIdentifier(name: aws.streamName, arn: aws.streamARN))
        }
        let (configuration, clientConfiguration, credentials, stream) = setup
        let logger = configuration.logger

        var dataConfiguration = clientConfiguration
        dataConfiguration.retry.maxAttempts = 1  // the runner retries per record, with deadlines
        // The client's own HTTP settings (timeouts, CA bundle), with a connection per concurrent put and two spare.
        var http = clientConfiguration.http
        http.maxConnections = configuration.concurrency.maxConcurrentPuts + 2
        let ownedHTTPClient = configuration.httpClient == nil
            ? HTTPClient(eventLoopGroupProvider: .singleton, configuration: KinesisClient.httpConfiguration(http))
            : nil
        let data = KinesisClient(
            configuration: dataConfiguration,
            credentialProvider: credentials,
            httpClient: ownedHTTPClient ?? configuration.httpClient!,
            logger: logger
        )
        let (control, metricsOn) = settings.withLock { ($0.control!, $0.metrics != nil) }
        state.withLock {
            $0.collectsLatencies = metricsOn
            $0.reportsHandlerDeliveries = configuration.deliveryHandler != nil
        }

        logger.info(
            "runner started",
            metadata: [
                "kinesis.stream": "\(stream)", "kinesis.endpoint": "\(clientConfiguration.endpoint)",
                "kinesis.mode": "\(configuration.concurrency.isAsync ? "async" : "sync")",
            ]
        )
        var failure: (any Error)?
        do {
            try await withGracefulShutdownHandler {
                try await loop(
                    configuration: configuration,
                    data: data,
                    control: control,
                    credentials: credentials,
                    stream: stream,
                    logger: logger
                )
            } onGracefulShutdown: {
                self.beginShutdown()
            }
        } catch {
            failure = error
        }
        deliver(state.withLock { $0.finish() })
        publishMetrics(credentials: credentials)
        try? await ownedHTTPClient?.shutdown()
        let waiters = settings.withLock { settings in
            settings.runState = .finished
            defer { settings.finishWaiters = [] }
            return settings.finishWaiters
        }
        for waiter in waiters { waiter.resume() }
        let stats = self.stats
        logger.info(
            "runner stopped",
            metadata: [
                "kinesis.sent": "\(stats.sent)", "kinesis.delivered": "\(stats.delivered)", "kinesis.failed": "\(stats.failed)",
                "kinesis.recovered": "\(stats.recovered)",
            ]
        )
        if let failure { throw failure }
        if let terminal = state.withLock({ $0.terminal }) { throw terminal }
    }

    private func loop(
        configuration: RunnerConfiguration,
        data: KinesisClient,
        control: KinesisClient,
        credentials: any CredentialProvider,
        stream: StreamIdentifier,
        logger: Logger
    ) async throws {
        var nextDebug = ContinuousClock.now + configuration.diagnostics.debugInterval
        let metrics = settings.withLock { $0.metrics }
        var nextPublish = ContinuousClock.now
        var throttling = ThrottleEpisode()
        try await withThrowingDiscardingTaskGroup { group in
            // Future instants a sleeper task will wake the loop at. No ticker: the loop sleeps until the state
            // machine's next instant (a flush deadline, a budget refill for a full batch, a retry, the shard
            // refresh, the shutdown deadline) or until a record, an answer or a shutdown wakes it.
            var sleepers: [ContinuousClock.Instant] = []
            var wakeups = wakeStream.makeAsyncIterator()
            loop: while true {
                let now = ContinuousClock.now
                if configuration.diagnostics.isDebug, now >= nextDebug {
                    nextDebug = now + configuration.diagnostics.debugInterval
                    logDebugLine(logger)
                }
                if now >= nextPublish {
                    nextPublish = now + .milliseconds(250)
                    if metrics != nil { publishMetrics(credentials: credentials) }
                    throttling.observe(throttled: stats.throttled, now: now, stream: stream, logger: logger)
                }
                if Task.isCancelled {
                    // Cancelled (not a graceful shutdown): stop now; run() fails what is left with a shutdown outcome.
                    logger.warning("runner cancelled; failing what is left", metadata: ["kinesis.buffered": "\(stats.buffered)"])
                    break
                }
                let (action, effects) = state.withLock { $0.nextAction(now: now) }
                deliver(effects)
                switch action {
                case .send(let batch):
                    // Sync mode too sends from a child task: the state machine keeps it to one request in flight
                    // (each answer handled before the next batch), and the shutdown deadline can cancel the call.
                    group.addTask {
                        let started = ContinuousClock.now
                        let answer = await self.send(batch, client: data, stream: stream)
                        if let metrics {
                            let delay = ContinuousClock.now - started
                            metrics.pushDelay.recordNanoseconds(delay.inNanoseconds)
                        }
                        self.deliver(self.state.withLock { $0.complete(batch, with: answer, now: .now) })
                        self.wake()
                    }
                case .refreshShards:
                    group.addTask { await self.refreshShardMap(control: control, stream: stream, logger: logger) }
                case .stop(.deadlinePassed(let buffered)):
                    logger.warning("shutdown deadline passed; failing what is left", metadata: ["kinesis.buffered": "\(buffered)"])
                    break loop
                case .stop(.streamUnusable(let terminal)):
                    logger.error("stream unusable; the runner stops", metadata: ["kinesis.error": "\(terminal)"])
                    group.cancelAll()
                    return
                case .stop(.drained), .stop(.finished):
                    break loop
                case .wait(let until):
                    var wakeAt = until
                    for instant in [metrics != nil ? nextPublish : nil, configuration.diagnostics.isDebug ? nextDebug : nil, throttling.quietEnd] {
                        if let instant { wakeAt = wakeAt.map { min($0, instant) } ?? instant }
                    }
                    sleepers.removeAll { $0 <= now }
                    if let wakeAt, !sleepers.contains(where: { $0 <= wakeAt }) {
                        sleepers.append(wakeAt)
                        group.addTask {
                            try? await Task.sleep(until: wakeAt, clock: .continuous)
                            self.wake()
                        }
                    }
                    // nil once the task is cancelled (and from then on at once): the check at the top ends the loop.
                    _ = await wakeups.next()
                }
            }
            // Cancels the sleepers, refreshes and (after an overdue drain) in-flight sends, whose records then fail
            // with a shutdown outcome.
            group.cancelAll()
        }
    }

    func send(_ batch: RunnerStateMachine.Batch, client: KinesisClient, stream: StreamIdentifier) async -> Result<PutRecordsOutcomes, KinesisError> {
        do {
            return .success(try await client.putRecordsOutcomes(body: Self.requestBody(of: batch, stream: stream), recordCount: batch.kinesisRecordCount))
        } catch let error as KinesisError {
            return .failure(Task.isCancelled ? Self.cancelled(error) : error)
        } catch {
            return .failure(Self.cancelled(KinesisError(code: .transport, message: "\(error)", operation: "PutRecords", underlying: error)))
        }
    }

    /// The PutRecords body of a batch: a raw batch's records go in as they are; aggregates are built here, outside
    /// the lock.
    static func requestBody(of batch: RunnerStateMachine.Batch, stream: StreamIdentifier) -> ByteBuffer {
        batch.entries == nil ? PutRecordsBody.encode(batch.records, stream: stream) : PutRecordsBody.encode(aggregatedRecords(of: batch), stream: stream)
    }

    /// The Kinesis records of an aggregated batch. An aggregate's partition key is its first record's, and its explicit
    /// hash key that record's hash, which lies inside the predicted shard like every other member's; a shape of one
    /// record goes as that record.
    static func aggregatedRecords(of batch: RunnerStateMachine.Batch) -> [PutRecordsEntry] {
        (batch.entries ?? []).map { shape in
            let first = batch.records[shape.members.lowerBound]
            guard shape.isAggregate, let layout = shape.layout else {
                return PutRecordsEntry(data: first.record.data, partitionKey: first.record.partitionKey, explicitHashKey: first.record.explicitHashKey)
            }
            let base = shape.members.lowerBound
            let data = layout.aggregate { batch.records[base + $0].record.data }
            return PutRecordsEntry(data: data, partitionKey: first.record.partitionKey, explicitHashKey: String(first.hash))
        }
    }

    /// A call cut short by the shutdown deadline: the records may or may not have been stored.
    static func cancelled(_ error: KinesisError) -> KinesisError {
        KinesisError(
            code: "ShutdownCancelled",
            message: "PutRecords was cancelled by the shutdown deadline; the records may have been stored",
            operation: "PutRecords",
            retryClass: .transient,
            underlying: error
        )
    }

    private func refreshShardMap(control: KinesisClient, stream: StreamIdentifier, logger: Logger) async {
        defer {
            state.withLock { $0.refreshFinished() }
            wake()
        }
        do {
            let shards = try await control.listShards(stream: stream, filter: .atLatest)
            let map = ShardMap(openShards: shards)
            let (previous, effects) = state.withLock { state in
                (state.map?.count, state.install(map, now: .now))
            }
            deliver(effects)
            if previous != map.count {
                logger.notice("shard map refreshed", metadata: ["kinesis.stream": "\(stream)", "kinesis.open_shards": "\(map.count)"])
            }
        } catch {
            logger.warning("listing shards failed; keeping the previous map", metadata: ["kinesis.stream": "\(stream)", "error": "\(error)"])
        }
    }

    /// Reads the state once under its lock and hands it to the metrics (when ``configureWithMetrics(_:)`` was used).
    func publishMetrics(credentials: any CredentialProvider) {
        guard let metrics = settings.withLock({ $0.metrics }) else { return }
        let now = ContinuousClock.now
        let reading = state.withLock { state in
            RunnerMetrics.Reading(
                stats: state.snapshot,
                tally: state.tally,
                bufferedBytes: state.bufferedByteCount,
                oldestAge: state.oldestBufferedAcceptance.map { now - $0 },
                recordsPerSecond: state.limiter.recordsPerSecond,
                openShards: state.map?.count,
                concurrencyLimit: state.concurrencyLimit,
                credentialRefreshes: (credentials as? CachingCredentialProvider)?.fetchCount ?? 0,
                credentialFailures: (credentials as? CachingCredentialProvider)?.failedFetchCount ?? 0
            )
        }
        metrics.publish(reading)
    }

    private func logDebugLine(_ logger: Logger) {
        let stats = self.stats
        logger.info(
            "kinesis-pusher stats",
            metadata: [
                "kinesis.sent": "\(stats.sent)", "kinesis.delivered": "\(stats.delivered)", "kinesis.failed": "\(stats.failed)",
                "kinesis.recovered": "\(stats.recovered)", "kinesis.retries": "\(stats.retries)",
                "kinesis.throttled": "\(stats.throttled)", "kinesis.in_flight": "\(stats.inFlight)",
                "kinesis.buffered": "\(stats.buffered)",
            ]
        )
    }

    /// Starts a graceful shutdown: no new records; what is buffered is flushed within the shutdown timeout.
    func beginShutdown() {
        let (timeout, logger) = settings.withLock { ($0.configuration.shutdownTimeout, $0.configuration.logger) }
        let (effects, buffered, inFlight) = state.withLock { state in
            (state.beginDrain(deadline: .now + timeout), state.bufferedCount, state.inFlightRequests)
        }
        logger.notice(
            "shutting down: flushing what is buffered",
            metadata: ["kinesis.buffered": "\(buffered)", "kinesis.in_flight": "\(inFlight)", "kinesis.shutdown.timeout": "\(timeout)"]
        )
        deliver(effects)
        wake()
    }

    /// Shuts the runner down gracefully and waits for ``run()`` to finish: intake stops, buffered records are
    /// flushed within ``RunnerConfiguration/shutdownTimeout``, and whatever is left fails with a shutdown outcome.
    /// Never hangs past the timeout.
    ///
    /// Called before ``run()`` started (its task may simply not be scheduled yet), it gives `run()` until the
    /// timeout to start and flush; records still buffered then fail with a shutdown outcome.
    public func shutdown() async {
        beginShutdown()
        let deadline = ContinuousClock.now + settings.withLock { $0.configuration.shutdownTimeout }
        while settings.withLock({ if case .notStarted = $0.runState { true } else { false } }),
            !state.withLock({ $0.isIdle }), ContinuousClock.now < deadline
        {
            do { try await Task.sleep(for: .milliseconds(5)) } catch { break }
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = settings.withLock { settings -> Bool in
                switch settings.runState {
                case .running:
                    settings.finishWaiters.append(continuation)
                    return false
                case .notStarted, .finished:
                    return true
                }
            }
            if resumeNow {
                deliver(state.withLock { $0.finish() })
                continuation.resume()
            }
        }
    }
}

/// Turns the throttle counter into two log lines per episode, "started" and "stopped", instead of one per throttle.
struct ThrottleEpisode {
    private var lastCount = 0
    private var startedAt: ContinuousClock.Instant?
    private var lastThrottleAt: ContinuousClock.Instant?
    private var countAtStart = 0
    /// Quiet time after which an episode is over.
    static let quiet = Duration.seconds(5)

    /// When the open episode ends if no throttle comes first (the loop wakes then to say so).
    var quietEnd: ContinuousClock.Instant? {
        guard startedAt != nil, let last = lastThrottleAt else { return nil }
        return last + Self.quiet
    }

    mutating func observe(throttled: Int, now: ContinuousClock.Instant, stream: StreamIdentifier, logger: Logger) {
        defer { lastCount = throttled }
        if throttled > lastCount {
            lastThrottleAt = now
            if startedAt == nil {
                startedAt = now
                countAtStart = lastCount
                logger.notice("throttling started", metadata: ["kinesis.stream": "\(stream)"])
            }
        } else if let started = startedAt, let last = lastThrottleAt, now - last >= Self.quiet {
            logger.notice(
                "throttling stopped",
                metadata: [
                    "kinesis.stream": "\(stream)", "kinesis.throttled": "\(throttled - countAtStart)",
                    "kinesis.throttling.duration": "\(last - started)",
                ]
            )
            startedAt = nil
        }
    }
}
