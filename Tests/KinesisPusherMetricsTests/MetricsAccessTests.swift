import AsyncHTTPClient
import CoreMetrics
import Foundation
import KinesisPusherPrometheus
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Testing
import TestSupport

/// Malformed or wrong `Authorization` values, each refused.
let refusedAuthorizations: [String] = [
    "",
    "Basic",
    "Basic ",
    "Basic !!!not-base64!!!",
    "Basic " + Data("prompw".utf8).base64EncodedString(),  // no colon
    "Basic " + Data("prom:wrong".utf8).base64EncodedString(),
    "Basic " + Data("other:pw".utf8).base64EncodedString(),
    "Basic " + Data("prom:pw ".utf8).base64EncodedString(),
    "Basic " + Data("prom:p".utf8).base64EncodedString(),
    "Basic " + Data(":".utf8).base64EncodedString(),
    "Bearer " + Data("prom:pw".utf8).base64EncodedString(),  // other scheme
    "Digest username=\"prom\"",
    Data("prom:pw".utf8).base64EncodedString(),  // no scheme
    "Basicx" + Data("prom:pw".utf8).base64EncodedString(),
]

@Suite("MetricsAccess and MetricsEndpoint")
struct MetricsAccessTests {
    @Test("basic: the right credentials pass, case-insensitive scheme and padding spaces too")
    func rightCredentials() {
        let access = MetricsAccess.basic(user: "prom", password: "pw")
        #expect(access.requiresAuthentication)
        #expect(access.allows(authorization: basic("prom", "pw")))
        #expect(access.allows(authorization: "basic " + Data("prom:pw".utf8).base64EncodedString()))
        #expect(access.allows(authorization: "BASIC  " + Data("prom:pw".utf8).base64EncodedString() + " "))
        // A password with a colon: everything after the first colon is the password.
        #expect(MetricsAccess.basic(user: "u", password: "a:b").allows(authorization: basic("u", "a:b")))
        #expect(MetricsAccess.basic(user: "ü", password: "pässwörd").allows(authorization: basic("ü", "pässwörd")))
    }

    @Test("basic: missing, wrong and malformed credentials are refused", arguments: [nil] + refusedAuthorizations.map { Optional($0) })
    func refused(authorization: String?) {
        #expect(!MetricsAccess.basic(user: "prom", password: "pw").allows(authorization: authorization))
    }

    @Test("open lets everyone in; descriptions never show the credentials")
    func openAndDescription() {
        #expect(!MetricsAccess.open.requiresAuthentication)
        #expect(MetricsAccess.open.allows(authorization: nil))
        #expect(MetricsAccess.open.allows(authorization: "Bearer x"))
        let access = MetricsAccess.basic(user: "prom", password: "s3cr3t-pw")
        for text in [access.description, "\(access)", String(reflecting: access)] {
            #expect(!text.contains("s3cr3t-pw") && !text.contains("prom:"), "\(text)")
        }
    }

    @Test("endpoint: 401 with a Basic challenge, 200 with the exposition and its content type")
    func endpoint() {
        let metrics = PrometheusMetrics()
        let endpoint = MetricsEndpoint(metrics: metrics, access: .basic(user: "prom", password: "pw"), realm: "kinesis")
        let refused = endpoint.respond(authorization: nil)
        #expect(refused.status == 401)
        let challenge = refused.headers.first { $0.0.lowercased() == "www-authenticate" }?.1
        #expect(challenge?.hasPrefix("Basic realm=\"kinesis\"") == true)
        #expect(endpoint.respond(authorization: basic("prom", "wrong")).status == 401)
        let allowed = endpoint.respond(authorization: basic("prom", "pw"))
        #expect(allowed.status == 200)
        #expect(allowed.headers.first { $0.0.lowercased() == "content-type" }?.1 == "text/plain; version=0.0.4; charset=utf-8")
        #expect(allowed.body == metrics.exposition())
        #expect(!String(decoding: refused.body, as: UTF8.self).contains("kinesis_pusher"))
    }
}

@Suite("MetricsServer over HTTP on 127.0.0.1", .timeLimit(.minutes(1)))
struct MetricsServerTests {
    /// A registry with one runner-like counter, so the exposition is not empty.
    static func metrics() -> PrometheusMetrics {
        let metrics = PrometheusMetrics()
        metrics.factory.makeCounter(label: "kinesis_pusher_records_total", dimensions: [("stream", "s"), ("status", "success")]).increment(by: 3)
        return metrics
    }

    @Test("Basic Auth: none → 401 with challenge, wrong → 401, malformed → 401, right → 200 with the exposition")
    func basicAuth() async throws {
        let metrics = Self.metrics()
        let server = try await MetricsServer.start(endpoint: MetricsEndpoint(metrics: metrics, access: .basic(user: "prom", password: "pw")), port: 0)
        #expect(server.port > 0)
        #expect(server.host == "127.0.0.1")
        try await withHTTPClient { client in
            let none = try await request(client, port: server.port)
            #expect(none.status == 401)
            let challenge = try #require(none.headers.first(name: "WWW-Authenticate"))
            #expect(challenge.hasPrefix("Basic realm=\"metrics\""))
            #expect(!String(decoding: none.body, as: UTF8.self).contains("kinesis_pusher"))

            for authorization in refusedAuthorizations where !authorization.isEmpty {
                let answer = try await request(client, port: server.port, authorization: authorization)
                #expect(answer.status == 401, "\(authorization)")
                #expect(answer.headers.first(name: "WWW-Authenticate") != nil)
            }

            let right = try await request(client, port: server.port, authorization: basic("prom", "pw"))
            #expect(right.status == 200)
            #expect(right.headers.first(name: "Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
            #expect(right.headers.first(name: "Content-Length") == String(right.body.count))
            #expect(right.body == metrics.exposition())
            let exposition = Exposition(right.body)
            #expect(exposition.value("kinesis_pusher_records_total", ["status": "success"]) == 3)

            // A query string is ignored; HEAD answers the headers only.
            let query = try await request(client, port: server.port, path: "/metrics?x=1", authorization: basic("prom", "pw"))
            #expect(query.status == 200)
            let head = try await request(client, port: server.port, method: .HEAD, authorization: basic("prom", "pw"))
            #expect(head.status == 200)
            #expect(head.body.isEmpty)
        }
        await server.stop()
    }

    @Test("other paths and methods → 404, with or without credentials")
    func notFound() async throws {
        let server = try await MetricsServer.start(endpoint: MetricsEndpoint(metrics: Self.metrics(), access: .basic(user: "prom", password: "pw")), port: 0)
        try await withHTTPClient { client in
            for path in ["/", "/metric", "/metrics/", "/metrics/x", "/other"] {
                let anonymous = try await request(client, port: server.port, path: path)
                #expect(anonymous.status == 404, "\(path)")
                let authorized = try await request(client, port: server.port, path: path, authorization: basic("prom", "pw"))
                #expect(authorized.status == 404, "\(path)")
            }
            let post = try await request(client, port: server.port, method: .POST, authorization: basic("prom", "pw"))
            #expect(post.status == 404)
        }
        await server.stop()
    }

    @Test("open access: 200 without credentials; a custom path")
    func openAccess() async throws {
        let server = try await MetricsServer.start(endpoint: MetricsEndpoint(metrics: Self.metrics()), port: 0, path: "/prom")
        try await withHTTPClient { client in
            let custom = try await request(client, port: server.port, path: "/prom")
            #expect(custom.status == 200)
            let standard = try await request(client, port: server.port, path: "/metrics")
            #expect(standard.status == 404)
        }
        await server.stop()
    }

    @Test("a Service: ServiceGroup's graceful shutdown ends run(), closes the port and the kept-alive connections")
    func gracefulShutdown() async throws {
        let server = try await MetricsServer.start(endpoint: MetricsEndpoint(metrics: Self.metrics()), port: 0)
        let group = ServiceGroup(services: [server], logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            // A scraper's keep-alive connection that has been answered, and one that never sent anything.
            let scraper = try await RawConnection(port: server.port)
            try await scraper.send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            try await until { scraper.received.contains("kinesis_pusher_records_total") }
            #expect(scraper.received.hasPrefix("HTTP/1.1 200 OK"))
            let idle = try await RawConnection(port: server.port)
            let started = ContinuousClock.now
            await group.triggerGracefulShutdown()
            try await tasks.next()  // run() returned without error
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(try await scraper.closed(within: .seconds(5)), "a kept-alive connection still open after the shutdown")
            #expect(try await idle.closed(within: .seconds(5)), "an idle connection still open after the shutdown")
        }
        await #expect(throws: (any Error).self) { _ = try await RawConnection(port: server.port) }
    }

    @Test("stop() closes the port and the kept-alive connections")
    func stop() async throws {
        let server = try await MetricsServer.start(endpoint: MetricsEndpoint(metrics: Self.metrics()), port: 0)
        let scraper = try await RawConnection(port: server.port)
        try await scraper.send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        try await until { scraper.received.contains("kinesis_pusher_records_total") }
        await server.stop()
        #expect(try await scraper.closed(within: .seconds(2)))
        await #expect(throws: (any Error).self) { _ = try await RawConnection(port: server.port) }
    }

    @Test("a Service: cancellation ends run() and closes the port")
    func cancellation() async throws {
        let server = try await MetricsServer.start(endpoint: MetricsEndpoint(metrics: Self.metrics()), port: 0)
        let idle = try await RawConnection(port: server.port)
        let task = Task { try await server.run() }
        task.cancel()  // whether run() has started yet or not
        try await task.value
        #expect(try await idle.closed(within: .seconds(2)))
        await #expect(throws: (any Error).self) { _ = try await RawConnection(port: server.port) }
    }
}

/// A plain TCP connection to 127.0.0.1 that collects what it receives.
final class RawConnection: Sendable {
    let channel: any Channel
    private let buffer: Locked<[UInt8]>

    init(port: Int) async throws {
        let buffer = Locked<[UInt8]>([])
        self.buffer = buffer
        channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Collector(buffer: buffer)) }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
    }

    func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text))
    }

    var received: String { String(decoding: buffer.value, as: UTF8.self) }

    /// Whether the server closed the connection within `timeout` (closes it from this side otherwise).
    func closed(within timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while channel.isActive, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        guard channel.isActive else { return true }
        try? await channel.close()
        return false
    }

    final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let buffer: Locked<[UInt8]>
        init(buffer: Locked<[UInt8]>) { self.buffer = buffer }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = unwrapInboundIn(data).readableBytesView
            buffer.withLock { $0 += bytes }
        }
    }
}
