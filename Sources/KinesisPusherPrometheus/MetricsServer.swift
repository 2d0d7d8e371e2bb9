import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// A small standalone HTTP server for `/metrics`, for apps without a web framework (and the CLI). A
/// swift-service-lifecycle `Service`: ``run()`` serves until graceful shutdown.
public final class MetricsServer: Sendable {
    /// The port it listens on (the one picked when 0 was asked for).
    public let port: Int
    /// The address it is bound to.
    public let host: String
    private let channel: any Channel
    private let connections: Connections

    /// Binds `host:port` (port 0 picks a free one) and serves `path` from `endpoint`; other paths answer 404.
    public static func start(
        endpoint: MetricsEndpoint,
        host: String = "127.0.0.1",
        port: Int,
        path: String = "/metrics",
        logger: Logger = Logger(label: "kinesis-pusher.metrics", factory: { _ in SwiftLogNoOpLogHandler() })
    ) async throws -> MetricsServer {
        let connections = Connections()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(Handler(endpoint: endpoint, path: path))
                    connections.add(channel)  // once the pipeline can act on a quiesce event
                }
            }
            .bind(host: host, port: port)
            .get()
        let bound = channel.localAddress?.port ?? port
        logger.info("serving metrics", metadata: ["kinesis.metrics.url": "http://\(host):\(bound)\(path)", "kinesis.metrics.auth": "\(endpoint.access.requiresAuthentication)"])
        return MetricsServer(channel: channel, connections: connections, host: host, port: bound)
    }

    private init(channel: any Channel, connections: Connections, host: String, port: Int) {
        self.channel = channel
        self.connections = connections
        self.host = host
        self.port = port
    }

    /// Stops listening and closes the open connections once their current request is answered (idle keep-alive
    /// connections at once), so scrapers cannot go on reading through a connection kept alive.
    public func stop() async {
        try? await channel.close()
        connections.quiesce()
    }

    /// The accepted connections, so stopping can close them too (closing the listening socket leaves them open).
    final class Connections: Sendable {
        private struct State {
            var open: [ObjectIdentifier: any Channel] = [:]
            var quiescing = false
        }
        private let state = Mutex(State())

        func add(_ channel: any Channel) {
            let quiescing = state.withLock { state in
                if !state.quiescing { state.open[ObjectIdentifier(channel)] = channel }
                return state.quiescing
            }
            if quiescing {
                channel.close(promise: nil)
                return
            }
            channel.closeFuture.whenComplete { _ in
                _ = self.state.withLock { $0.open.removeValue(forKey: ObjectIdentifier(channel)) }
            }
        }

        /// Asks every connection to close after the response it is writing (NIO's HTTP pipeline does that on
        /// `ChannelShouldQuiesceEvent`); connections accepted from now on are closed at once.
        func quiesce() {
            let open = state.withLock { state in
                state.quiescing = true
                return Array(state.open.values)
            }
            for channel in open { channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent()) }
        }

        /// Closes every connection now.
        func closeAll() {
            let open = state.withLock { state in
                state.quiescing = true
                return Array(state.open.values)
            }
            for channel in open { channel.close(promise: nil) }
        }
    }

    final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let endpoint: MetricsEndpoint
        let path: String
        var head: HTTPRequestHead?

        init(endpoint: MetricsEndpoint, path: String) {
            self.endpoint = endpoint
            self.path = path
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): self.head = head
            case .body: break
            case .end:
                guard let head else { return }
                self.head = nil
                let requestPath = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
                let response: MetricsEndpoint.Response
                if requestPath == path && (head.method == .GET || head.method == .HEAD) {
                    response = endpoint.respond(authorization: head.headers.first(name: "Authorization"))
                } else {
                    response = .init(status: 404, headers: [("Content-Type", "text/plain")], body: Array("not found; metrics are at \(path)\n".utf8))
                }
                var headers = HTTPHeaders(response.headers)
                headers.add(name: "Content-Length", value: String(response.body.count))
                if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .init(statusCode: response.status), headers: headers))), promise: nil)
                if head.method != .HEAD {
                    context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: response.body)))), promise: nil)
                }
                let keepAlive = head.isKeepAlive
                let channel = context.channel
                context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                    if !keepAlive { channel.close(promise: nil) }
                }
            }
        }
    }
}

extension MetricsServer: Service {
    /// Serves until graceful shutdown (open connections close once their current response is written) or
    /// cancellation (they close at once).
    public func run() async throws {
        let channel = self.channel
        let connections = self.connections
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                try? await channel.closeFuture.get()
            } onGracefulShutdown: {
                channel.close(promise: nil)
                connections.quiesce()
            }
        } onCancel: {
            channel.close(promise: nil)
            connections.closeAll()
        }
    }
}
