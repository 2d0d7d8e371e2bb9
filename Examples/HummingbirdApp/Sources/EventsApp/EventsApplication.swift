import AWSCredentials
import Hummingbird
import KinesisPusher
import KinesisPusherHummingbird
import KinesisPusherPrometheus
import Logging

/// The runner the app sends through: async (up to 10 PutRecords in flight), metrics into `metrics`, records that
/// fail for good after `send` logged with their partition key. Credentials come from the standard AWS chain
/// (environment, profile, container, instance metadata) unless `credentials` is given.
func makeRunner(
    _ configuration: AppConfiguration,
    metrics: PrometheusMetrics,
    logger: Logger,
    credentials: (any CredentialProvider)? = nil
) throws -> Runner {
    let runner = Runner(bufferSize: configuration.bufferSize, maxConcurrentPuts: 10)
        .withAsync()
        .withLogger(logger)
        .withMetricsFactory(metrics.factory)
        .withFailureHandler { failure in
            logger.error(
                "event lost",
                metadata: ["partition_key": "\(failure.record.partitionKey)", "error": "\(failure.error)"]
            )
        }
    if let credentials { runner.withCredentialProvider(credentials) }
    try runner.configureWithMetrics(
        AWSConfig(region: configuration.region, profile: nil, streamName: configuration.stream, endpoint: configuration.endpoint)
    )
    return runner
}

/// The routes: `POST /events`, `GET /metrics`, `GET /health`.
func buildRouter(_ configuration: AppConfiguration, runner: Runner, metrics: PrometheusMetrics) -> Router<BasicRequestContext> {
    let router = Router()
    router.add(middleware: LogRequestsMiddleware(.debug))
    router.get("/health") { _, _ in HTTPResponse.Status.ok }
    router.addKinesisPusherMetrics(MetricsEndpoint(metrics: metrics, access: configuration.metricsAccess))
    let events = EventsController(runner: runner, partitionKeyField: configuration.partitionKeyField)
    router.post("/events", use: events.post)
    return router
}

/// The Hummingbird application around `router`. Run it in a `ServiceGroup` after the runner (see `main`).
func buildApplication(
    _ configuration: AppConfiguration,
    router: Router<BasicRequestContext>,
    logger: Logger
) -> Application<RouterResponder<BasicRequestContext>> {
    Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "events-app"),
        logger: logger
    )
}

extension AppConfiguration {
    var metricsAccess: MetricsAccess {
        guard let metricsUser, let metricsPassword else { return .open }
        return .basic(user: metricsUser, password: metricsPassword)
    }
}
