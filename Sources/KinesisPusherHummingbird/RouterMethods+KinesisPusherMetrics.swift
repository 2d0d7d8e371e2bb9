import HTTPTypes
import Hummingbird
import KinesisPusherPrometheus
import NIOCore

extension RouterMethods {
    /// Serves the runner's Prometheus metrics on `path` of your Hummingbird router (the seed's
    /// `r.Metrics.RegisterHandler(mux)`), with the endpoint's Basic Auth when it has one.
    ///
    /// ```swift
    /// let metrics = PrometheusMetrics()
    /// runner.withMetricsFactory(metrics.factory)
    /// router.addKinesisPusherMetrics(MetricsEndpoint(metrics: metrics, access: .basic(user: "prom", password: secret)))
    /// ```
    @discardableResult
    public func addKinesisPusherMetrics(_ endpoint: MetricsEndpoint, path: RouterPath = "/metrics") -> Self {
        get(path) { request, _ -> Response in
            let answer = endpoint.respond(authorization: request.headers[.authorization])
            var headers = HTTPFields()
            for (name, value) in answer.headers {
                if let field = HTTPField.Name(name) { headers[field] = value }
            }
            return Response(
                status: HTTPResponse.Status(code: answer.status),
                headers: headers,
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body))
            )
        }
    }
}
