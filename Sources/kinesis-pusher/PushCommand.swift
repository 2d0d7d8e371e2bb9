import Backoff
import ArgumentParser
import Foundation
import KinesisAPI
import KinesisPusher
import KinesisPusherPrometheus
import LineInput
import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals

/// `kinesis-pusher push`: records from files or standard input into a stream, through the Runner.
struct PushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Push records from files or standard input (one per line, or NDJSON) into a stream.",
        discussion: "Exits 0 only if every record was delivered. SIGINT/SIGTERM flush what was read, then stop."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case lines, ndjson
    }

    enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @OptionGroup var aws: AWSOptions

    @OptionGroup var metricsOptions: MetricsOptions

    @Argument(help: "Files to read ('-' or none: standard input).")
    var files: [String] = []

    @Flag(help: "Keep reading lines appended to the files, through rotation (like tail -F), until SIGTERM or SIGINT.")
    var follow = false

    @Option(help: "Keep each file's delivered position in this file (written atomically every second and at exit); a re-run resumes from it.")
    var checkpoint: String?

    @Option(help: "Input format: lines (each line is a record) or ndjson (each line a JSON object, sent as is).")
    var format: Format = .lines

    @Option(help: "A fixed partition key for every record (default: a random key per record).")
    var partitionKey: String?

    @Option(help: "With --format ndjson: take the partition key from this field of each object.")
    var partitionKeyField: String?

    @Flag(help: "Keep up to --max-concurrent-puts PutRecords calls in flight.")
    var async = false

    @Option(help: "Records waiting to be sent before reading pauses (default 1000; 20000 with --aggregate).")
    var bufferSize: Int?

    @Flag(help: "Pack records into KPL aggregated records per predicted shard (consumers must deaggregate).")
    var aggregate = false

    @Option(help: "With --aggregate: largest aggregated record in bytes, data plus key.")
    var aggregateMaxSize = 51_200

    @Option(help: "With --aggregate: most records in one aggregate (default: no limit).")
    var aggregateMaxCount: Int?

    @Flag(help: "Keep each partition key's records in input order, across retries and in async mode.")
    var ordered = false

    @Option(help: "PutRecords calls in flight in async mode.")
    var maxConcurrentPuts = 10

    @Option(help: "Longest wait for a fuller batch (e.g. 100ms).")
    var flushInterval = DurationArgument(argument: "100ms")!

    @Option(help: "How often open shards are listed again (e.g. 30s).")
    var shardRefreshInterval = DurationArgument(argument: "30s")!

    @Option(help: "How long a record may be retried (e.g. 30s, or 'never').")
    var recordTtl = TTLArgument(argument: "30s")!

    @Option(help: "Attempts per record (default: until the TTL).")
    var maxAttempts: Int?

    @Option(help: "Bytes per PutRecords request (data plus keys), up to 10485760.")
    var maxRequestBytes = 5 << 20

    @Option(help: "Share of the per-shard limits to aim for, in percent.")
    var rateLimitPercent = 100.0

    @Flag(help: "No client-side rate limit: send as fast as the stream answers (for emulators without limits).")
    var noRateLimit = false

    @Option(help: "How long SIGINT/SIGTERM may spend flushing (e.g. 25s).")
    var shutdownTimeout = DurationArgument(argument: "25s")!

    @Flag(help: "Log the runner's counters every few seconds.")
    var debug = false

    @Option(help: "Final report: text (standard error) or json (one object on standard output).")
    var report: ReportFormat = .text

    func validate() throws {
        if (follow || checkpoint != nil) && (files.isEmpty || files.contains("-")) {
            throw ValidationError("--follow and --checkpoint read files: name them (standard input cannot be followed or resumed)")
        }
        if partitionKeyField != nil && format != .ndjson {
            throw ValidationError("--partition-key-field needs --format ndjson")
        }
        if partitionKey != nil && partitionKeyField != nil {
            throw ValidationError("give either --partition-key or --partition-key-field")
        }
        guard (84...(1 << 20)).contains(aggregateMaxSize) else {
            throw ValidationError("--aggregate-max-size must be between 84 and 1048576 (a stream's largest record)")
        }
        guard (1024...(10 << 20)).contains(maxRequestBytes) else {
            throw ValidationError("--max-request-bytes must be between 1024 and 10485760")
        }
    }

    func run() async throws {
        var logger = aws.makeLogger()
        if debug { logger.logLevel = min(logger.logLevel, .info) }
        let metrics = metricsOptions.isEnabled ? PrometheusMetrics(help: Runner.metricHelp.merging(FileMetrics.help) { $1 }) : nil
        var configuration = RunnerConfiguration(
            buffer: .init(size: bufferSize ?? (aggregate ? 20_000 : 1000)),
            batching: .init(maxRequestBytes: maxRequestBytes, flushInterval: flushInterval.duration),
            concurrency: .init(isAsync: async, maxConcurrentPuts: maxConcurrentPuts),
            retry: .init(maxAttempts: maxAttempts, recordTTL: recordTtl.duration),
            pacing: .init(rateLimitPercent: noRateLimit ? nil : rateLimitPercent),
            metrics: .init(factory: metrics?.factory),
            diagnostics: .init(isDebug: debug),
            shardRefreshInterval: shardRefreshInterval.duration,
            shutdownTimeout: shutdownTimeout.duration,
            logger: logger,
            aggregation: aggregate ? .init(maxSize: aggregateMaxSize, maxCount: aggregateMaxCount ?? .max) : nil,
            ordering: ordered ? .perPartitionKey : .none
        )
        let failures = FailureSummary()
        configuration.failureHandler = failures.record
        let shipping: FileShipping?
        do {
            shipping = follow || checkpoint != nil ? try FileShipping(paths: files, follow: follow, checkpointPath: checkpoint) : nil
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
        if let shipping { configuration.deliveryHandler = shipping.acknowledge }
        let fileMetrics = shipping.flatMap { shipping in metrics.map { FileMetrics(paths: shipping.paths, factory: $0.factory) } }
        let runner = Runner(configuration: configuration)
        let start = ContinuousClock.now

        let metricsServer: MetricsServer?
        do {
            // A loopback endpoint gets a region and placeholder credentials when none are set (LocalEndpoint).
            runner.withCredentialProvider(aws.makeCredentialProvider(logger: logger))
            let target = AWSConfig(
                region: try aws.resolveConfiguration().region,
                profile: aws.profile,
                streamName: aws.streamIdentifier.name ?? aws.stream,
                streamARN: aws.streamIdentifier.arn,
                endpoint: aws.endpoint,
                caBundle: aws.caBundle
            )
            if metrics != nil { try runner.configureWithMetrics(target) } else { try runner.configure(target) }
            _ = try await runner.checkShards()
            if let metrics {
                metricsServer = try await metricsOptions.startServer(metrics)
            } else {
                metricsServer = nil
            }
        } catch {
            FileHandle.standardError.write(Data("error: \(FailureReason.describe(error, stream: aws.stream, endpoint: aws.endpoint))\n".utf8))
            throw ExitCode.failure
        }

        let input = InputService(
            runner: runner,
            files: files,
            format: format,
            partitionKey: partitionKey,
            partitionKeyField: partitionKeyField,
            shipping: shipping
        )
        let showProgress = isatty(2) == 1
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        // Services stop in reverse order: the input first, the runner after its flush, /metrics last.
        if let metricsServer { services.append(.init(service: metricsServer)) }
        if showProgress {
            services.append(.init(service: ProgressService(runner: runner, input: input, shipping: shipping)))
        }
        services.append(.init(service: runner))
        services.append(.init(service: input, successTerminationBehavior: .gracefullyShutdownGroup))
        // Signals are handled here, not by the group: the first SIGTERM or SIGINT starts the graceful shutdown
        // (reading stops at once, the runner flushes within --shutdown-timeout); a second SIGINT exits at once.
        // While following, SIGHUP reopens the files (without --follow it ends the process, as it always did).
        var groupConfiguration = ServiceGroupConfiguration(services: services, logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = shutdownTimeout.duration + .seconds(10)
        let group = ServiceGroup(configuration: groupConfiguration)
        let signals = Task {
            var interrupted = false
            let trapped: [UnixSignal] = follow ? [.sigterm, .sigint, .sighup] : [.sigterm, .sigint]
            for await signal in await UnixSignalsSequence(trapping: trapped) {
                if signal == .sighup {
                    input.reopenFiles()
                } else if !interrupted {
                    interrupted = true
                    await group.triggerGracefulShutdown()
                } else if signal == .sigint {
                    exitAtOnce(runner: runner, input: input, start: start, showProgress: showProgress)
                }
            }
        }
        let checkpoints = shipping.map { shipping in
            Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    if let error = await shipping.writeIfChanged() { input.report("error: \(error)") }
                    fileMetrics?.update(shipping.progress)
                }
            }
        }
        var failure: (any Error)?
        do {
            try await group.run()
        } catch {
            failure = error
        }
        signals.cancel()
        checkpoints?.cancel()
        await checkpoints?.value
        var checkpointFailed = false
        // After the flush: every delivery the runner will ever report is in.
        if let error = await shipping?.writeIfChanged() {
            input.report("error: \(error)")
            checkpointFailed = true
        }
        if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }

        if let shipping { fileMetrics?.update(shipping.progress) }
        if let metrics { try metricsOptions.writeTextfile(metrics) }
        let read = input.counts
        let summary = PushReport(stats: runner.stats, read: read, elapsed: ContinuousClock.now - start)
        if let failure {
            FileHandle.standardError.write(Data("error: \(FailureReason.describe(failure, stream: aws.stream, endpoint: aws.endpoint))\n".utf8))
        } else if !read.complete {
            FileHandle.standardError.write(Data("interrupted: stopped reading after \(read.records) records; every record read is counted below\n".utf8))
        }
        for line in failures.lines { FileHandle.standardError.write(Data((line + "\n").utf8)) }
        try write(summary)
        if failure != nil || !read.complete || summary.delivered != summary.sent || checkpointFailed {
            throw ExitCode.failure
        }
    }

    /// The report, on standard error as text or on standard output as one JSON object.
    private func write(_ summary: PushReport) throws {
        switch report {
        case .json:
            FileHandle.standardOutput.write(Data((try jsonReport(summary) + "\n").utf8))
        case .text:
            FileHandle.standardError.write(Data((summary.text + "\n").utf8))
        }
    }

    /// A second SIGINT: no more waiting for the flush. Prints what is known (records not yet acknowledged count as
    /// failed, though some of those in flight may have been stored) and exits with status 130.
    private func exitAtOnce(runner: Runner, input: InputService, start: ContinuousClock.Instant, showProgress: Bool) -> Never {
        let read = input.counts
        let summary = PushReport(stats: runner.stats, read: read, elapsed: ContinuousClock.now - start)
        let clear = showProgress ? "\r\u{1B}[K" : ""
        FileHandle.standardError.write(Data((
            "\(clear)interrupted again: exiting without waiting for the flush; \(summary.failed) of \(read.records) records read "
                + "are counted as failed (some of those in flight may have been stored)\n"
        ).utf8))
        try? write(summary)
        Foundation.exit(130)
    }
}

/// The final numbers of a push; the JSON field names are an interface.
struct PushReport: Encodable {
    var sent: Int
    var delivered: Int
    var failed: Int
    var recovered: Int
    var retries: Int
    var throttled: Int
    var input_errors: Int
    var requests: Int
    /// Kinesis records acknowledged (aggregates count once).
    var kinesis_records: Int
    /// Delivered records that went inside aggregates.
    var aggregated: Int
    /// Records resent because their aggregate landed on a shard not owning them all.
    var reaggregated: Int
    var elapsed_s: Double
    var records_per_s: Double

    /// The report of `read` lines of input and the runner's counters after `elapsed`. Every line read is delivered
    /// or failed: refused by the runner (input errors), never accepted (reading stopped), failed by the runner, or
    /// still unacknowledged (only when the push exits without waiting for the flush).
    init(stats: RunnerStats, read: InputService.Counts, elapsed: Duration) {
        let seconds = elapsed.inSeconds
        let unacknowledged = max(0, stats.sent - stats.delivered - stats.failed)
        sent = read.records
        delivered = stats.delivered
        failed = stats.failed + unacknowledged + read.inputErrors + (read.records - read.inputErrors - stats.sent)
        recovered = stats.recovered
        retries = stats.retries
        throttled = stats.throttled
        input_errors = read.inputErrors
        requests = stats.requests
        kinesis_records = stats.deliveredKinesisRecords
        aggregated = stats.aggregated
        reaggregated = stats.reaggregated
        elapsed_s = (seconds * 1000).rounded() / 1000
        records_per_s = seconds > 0 ? (Double(stats.delivered) / seconds).rounded() : 0
    }

    var text: String {
        "pushed \(sent) records in \(elapsed_s) s (\(Int(records_per_s)) records/s): delivered \(delivered), failed \(failed), "
            + "recovered \(recovered), retries \(retries), throttled \(throttled), input errors \(input_errors), requests \(requests)"
            + (aggregated > 0 ? ", Kinesis records \(kinesis_records) (\(aggregated) records aggregated, \(reaggregated) resent after a reshard)" : "")
    }
}

/// A live progress line on standard error while a terminal watches.
struct ProgressService: Service {
    let runner: Runner
    let input: InputService
    /// While shipping files: each file's bytes behind and delivered rate, after the totals.
    let shipping: FileShipping?

    func run() async throws {
        var lastDelivered = 0
        var lastFileDelivered: [Int] = []
        var lastTime = ContinuousClock.now
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(250))
            let now = ContinuousClock.now
            let stats = runner.stats
            let interval = now - lastTime
            let seconds = interval.inSeconds
            let rate = seconds > 0 ? Double(stats.delivered - lastDelivered) / seconds : 0
            lastDelivered = stats.delivered
            lastTime = now
            var line = "\r\u{1B}[K\(Int(rate)) records/s  read \(input.counts.records)  delivered \(stats.delivered)  failed \(stats.failed)  retries \(stats.retries)  in flight \(stats.inFlight)  buffered \(stats.buffered)"
            if let progress = shipping?.progress {
                if lastFileDelivered.count != progress.count { lastFileDelivered = progress.map(\.delivered) }
                let files = progress.indices.prefix(3).map { index in
                    let fileRate = seconds > 0 ? Double(progress[index].delivered - lastFileDelivered[index]) / seconds : 0
                    let name = (progress[index].path as NSString).lastPathComponent
                    return "\(name): \(progress[index].bytesBehind) bytes behind, \(Int(fileRate))/s"
                }
                lastFileDelivered = progress.map(\.delivered)
                line += "  |  " + files.joined(separator: "  ") + (progress.count > 3 ? "  +\(progress.count - 3) files" : "")
            }
            FileHandle.standardError.write(Data(line.utf8))
        }
    }
}
