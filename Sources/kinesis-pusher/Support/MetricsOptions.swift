import ArgumentParser
import Foundation
import KinesisPusherPrometheus

/// `--metrics-port` and friends: serve `/metrics` while a command runs.
struct MetricsOptions: ParsableArguments {
    @Option(help: "Serve Prometheus metrics at http://HOST:PORT/metrics while running.")
    var metricsPort: Int?

    @Option(help: "Write the final metrics to this file at exit (Prometheus text format, for node_exporter's textfile collector).")
    var metricsTextfile: String?

    /// Whether any metrics output was asked for.
    var isEnabled: Bool { metricsPort != nil || metricsTextfile != nil }

    /// Writes the exposition to ``metricsTextfile`` (atomically: a temporary file renamed into place).
    func writeTextfile(_ metrics: PrometheusMetrics) throws {
        guard let path = metricsTextfile else { return }
        let temporary = path + ".tmp"
        try Data(metrics.exposition()).write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, path) == 0 else {
            throw ValidationError("cannot write --metrics-textfile \(path): \(String(cString: strerror(errno)))")
        }
    }

    @Option(help: "Address for --metrics-port.")
    var metricsHost = "127.0.0.1"

    @Option(help: "Require HTTP Basic Auth on /metrics with this user (and --metrics-password-file).")
    var metricsUser: String?

    @Option(help: "File holding the /metrics Basic Auth password (never given on the command line).")
    var metricsPasswordFile: String?

    func validate() throws {
        if (metricsUser == nil) != (metricsPasswordFile == nil) {
            throw ValidationError("--metrics-user and --metrics-password-file go together")
        }
        if metricsUser != nil && metricsPort == nil {
            throw ValidationError("--metrics-user needs --metrics-port")
        }
    }

    func access() throws -> MetricsAccess {
        guard let user = metricsUser, let file = metricsPasswordFile else { return .open }
        let password: String
        do {
            password = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            throw ValidationError("cannot read --metrics-password-file \(file): \(error.localizedDescription)")
        }
        guard !password.isEmpty else { throw ValidationError("--metrics-password-file \(file) is empty") }
        return .basic(user: user, password: password)
    }

    /// Starts the server when `--metrics-port` was given.
    func startServer(_ metrics: PrometheusMetrics) async throws -> MetricsServer? {
        guard let port = metricsPort else { return nil }
        let server = try await MetricsServer.start(endpoint: MetricsEndpoint(metrics: metrics, access: try access()), host: metricsHost, port: port)
        FileHandle.standardError.write(Data("metrics at http://\(metricsHost):\(server.port)/metrics\n".utf8))
        return server
    }
}
