import Foundation
import Hummingbird
import KinesisPusher
import KinesisPusherPrometheus
import Logging
import ServiceLifecycle
import UnixSignals

/// Reads the environment, checks the stream, then runs the runner and the HTTP server in one `ServiceGroup` until
/// SIGTERM or SIGINT.
@main
struct EventsAppMain {
    static func main() async {
        let configuration: AppConfiguration
        do {
            configuration = try AppConfiguration(environment: ProcessInfo.processInfo.environment)
        } catch {
            FileHandle.standardError.write(Data("events-app: \(error)\n".utf8))
            exit(2)
        }
        var logger = Logger(label: "events-app")
        logger.logLevel = configuration.logLevel

        do {
            let metrics = PrometheusMetrics()
            let runner = try makeRunner(configuration, metrics: metrics, logger: logger)
            // Fails within seconds, saying why, on a missing stream, absent or rejected credentials, or an
            // unreachable endpoint: better than accepting events that can never be delivered.
            let shards = try await runner.checkShards()
            logger.info("stream ready", metadata: ["kinesis.stream": "\(configuration.stream)", "kinesis.open_shards": "\(shards)"])

            let router = buildRouter(configuration, runner: runner, metrics: metrics)
            let app = buildApplication(configuration, router: router, logger: logger)
            // The runner comes first: a ServiceGroup stops its services in reverse order, so on SIGTERM the HTTP
            // server stops taking events (and finishes the requests it has) before the runner flushes what is
            // buffered, within its shutdown timeout (25 s by default).
            let group = ServiceGroup(
                configuration: .init(services: [runner, app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            )
            try await group.run()
            let stats = runner.stats
            logger.notice(
                "stopped",
                metadata: [
                    "kinesis.accepted": "\(stats.sent)", "kinesis.delivered": "\(stats.delivered)",
                    "kinesis.failed": "\(stats.failed)", "kinesis.buffered": "\(stats.buffered)",
                ]
            )
        } catch {
            logger.critical("events-app stopped: \(error)")
            exit(1)
        }
    }
}
