/// The `/metrics` answer, independent of any web framework: 200 with the exposition, or 401 with a Basic
/// challenge. ``MetricsServer`` and the Hummingbird route both use it.
public struct MetricsEndpoint: Sendable {
    /// The answer to one request.
    public struct Response: Sendable {
        /// 200 or 401.
        public var status: Int
        /// `Content-Type`, and `WWW-Authenticate` on a 401.
        public var headers: [(String, String)]
        /// The exposition, or a short refusal.
        public var body: [UInt8]
    }

    /// What is exposed.
    public let metrics: PrometheusMetrics
    /// Who may read it.
    public let access: MetricsAccess
    /// The realm named in the `WWW-Authenticate` challenge.
    public let realm: String

    /// An endpoint for `metrics`, open or behind Basic Auth.
    public init(metrics: PrometheusMetrics, access: MetricsAccess = .open, realm: String = "metrics") {
        self.metrics = metrics
        self.access = access
        self.realm = realm
    }

    /// Answers a request that carried `authorization` (the `Authorization` header, if any).
    public func respond(authorization: String?) -> Response {
        guard access.allows(authorization: authorization) else {
            return Response(
                status: 401,
                headers: [("WWW-Authenticate", "Basic realm=\"\(realm)\", charset=\"UTF-8\""), ("Content-Type", "text/plain; charset=utf-8")],
                body: Array("unauthorized\n".utf8)
            )
        }
        return Response(status: 200, headers: [("Content-Type", PrometheusMetrics.contentType)], body: metrics.exposition())
    }
}
