import CoreMetrics
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KinesisPusherHummingbird
import KinesisPusherPrometheus
import Testing

@Suite("Hummingbird /metrics route")
struct HummingbirdRouteTests {
    static func app(access: MetricsAccess, path: RouterPath = "/metrics") -> (some ApplicationProtocol, PrometheusMetrics) {
        let metrics = PrometheusMetrics()
        metrics.factory.makeCounter(label: "kinesis_pusher_records_total", dimensions: [("stream", "s"), ("status", "success")]).increment(by: 5)
        let router = Router()
        router.get("/health") { _, _ in "ok" }
        router.addKinesisPusherMetrics(MetricsEndpoint(metrics: metrics, access: access, realm: "kinesis"), path: path)
        return (Application(router: router), metrics)
    }

    @Test("Basic Auth: none → 401 with challenge, wrong or malformed → 401, right → 200 with the exposition")
    func basicAuth() async throws {
        let (app, metrics) = Self.app(access: .basic(user: "prom", password: "pw"))
        try await app.test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Basic realm=\"kinesis\"") == true)
                #expect(!String(buffer: response.body).contains("kinesis_pusher"))
            }
            for authorization in refusedAuthorizations where !authorization.isEmpty {
                try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: authorization]) { response in
                    #expect(response.status == .unauthorized, "\(authorization)")
                    #expect(response.headers[.wwwAuthenticate] != nil)
                }
            }
            try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: basic("prom", "pw")]) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
                #expect(Array(response.body.readableBytesView) == metrics.exposition())
                let exposition = Exposition(Array(response.body.readableBytesView))
                #expect(exposition.value("kinesis_pusher_records_total", ["status": "success"]) == 5)
                #expect(exposition.families["kinesis_pusher_records_total"]?.help?.isEmpty == false)
            }
            // The rest of the app is untouched by the route.
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test("open access and a custom path")
    func openAccess() async throws {
        let (app, _) = Self.app(access: .open, path: "/internal/metrics")
        try await app.test(.router) { client in
            try await client.execute(uri: "/internal/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }
}
