import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// A small standalone HTTP server for `/metrics`, for apps without a web framework (and the CLI). A
/// swift-service-lifecycle `Service`: ``run()`` serves until graceful shutdown.
public final class MetricsServer: Sendable {
    public let port: Int
    public let host: String
    private let channel: any Channel

    /// Binds `host:port` (port 0 picks a free one) and serves `path` from `endpoint`; other paths answer 404.
    public static func start(
        endpoint: MetricsEndpoint,
        host: String = "127.0.0.1",
        port: Int,
        path: String = "/metrics",
        logger: Logger = Logger(label: "kinesis-pusher.metrics", factory: { _ in SwiftLogNoOpLogHandler() })
    ) async throws -> MetricsServer {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(Handler(endpoint: endpoint, path: path))
                }
            }
            .bind(host: host, port: port)
            .get()
        let bound = channel.localAddress?.port ?? port
        logger.info("serving metrics", metadata: ["kinesis.metrics.url": "http://\(host):\(bound)\(path)", "kinesis.metrics.auth": "\(endpoint.access.requiresAuthentication)"])
        return MetricsServer(channel: channel, host: host, port: bound)
    }

    private init(channel: any Channel, host: String, port: Int) {
        self.channel = channel
        self.host = host
        self.port = port
    }

    /// Stops listening.
    public func stop() async {
        try? await channel.close()
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
    /// Serves until graceful shutdown or cancellation.
    public func run() async throws {
        let channel = self.channel
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                try? await channel.closeFuture.get()
            } onGracefulShutdown: {
                channel.close(promise: nil)
            }
        } onCancel: {
            channel.close(promise: nil)
        }
    }
}
