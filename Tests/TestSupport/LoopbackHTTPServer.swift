import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A small HTTP/1.1 server on 127.0.0.1 for tests: each request goes to a handler, and every request is recorded.
public final class LoopbackHTTPServer: Sendable {
    public struct Request: Sendable {
        public var method: String
        public var uri: String
        public var headers: [(String, String)]
        public var body: [UInt8]

        public func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
        public var bodyText: String { String(decoding: body, as: UTF8.self) }
    }

    public struct Response: Sendable {
        public var status: Int
        public var headers: [(String, String)]
        public var body: [UInt8]

        public init(status: Int = 200, headers: [(String, String)] = [], body: String = "") {
            self.status = status
            self.headers = headers
            self.body = Array(body.utf8)
        }
    }

    public typealias Handler = @Sendable (Request) async -> Response

    private let channel: any Channel
    private let recorded: Mutex<[Request]>
    public let port: Int

    /// The base URL, `http://127.0.0.1:PORT`.
    public var url: String { "http://127.0.0.1:\(port)" }

    /// Every request received so far.
    public var requests: [Request] { recorded.withLock { $0 } }

    private init(channel: any Channel) {
        self.channel = channel
        self.recorded = Mutex([])
        self.port = channel.localAddress?.port ?? 0
    }

    public static func start(handler: @escaping Handler) async throws -> LoopbackHTTPServer {
        let box = RequestLog()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Connection(handler: handler, log: box))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let server = LoopbackHTTPServer(channel: channel)
        box.server.withLock { $0 = server }
        return server
    }

    func record(_ request: Request) {
        recorded.withLock { $0.append(request) }
    }

    public func stop() async throws {
        try await channel.close()
    }

    final class RequestLog: Sendable {
        let server = Mutex<LoopbackHTTPServer?>(nil)
        func record(_ request: Request) {
            server.withLock { $0 }?.record(request)
        }
    }

    final class Connection: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        private let handler: Handler
        private let log: RequestLog
        private var head: HTTPRequestHead?
        private var body: [UInt8] = []

        init(handler: @escaping Handler, log: RequestLog) {
            self.handler = handler
            self.log = log
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body = []
            case .body(var buffer):
                body += buffer.readBytes(length: buffer.readableBytes) ?? []
            case .end:
                guard let head else { return }
                let request = Request(
                    method: head.method.rawValue,
                    uri: head.uri,
                    headers: head.headers.map { ($0.name, $0.value) },
                    body: body
                )
                log.record(request)
                let handler = self.handler
                let keepAlive = head.isKeepAlive
                let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                let eventLoop = context.eventLoop
                Task {
                    let response = await handler(request)
                    eventLoop.execute {
                        let (connection, context) = loopBound.value
                        connection.write(response, keepAlive: keepAlive, context: context)
                    }
                }
            }
        }

        private func write(_ response: Response, keepAlive: Bool, context: ChannelHandlerContext) {
            if response.status == 0 {
                // Status 0: drop the connection without answering.
                context.close(promise: nil)
                return
            }
            var headers = HTTPHeaders(response.headers)
            headers.replaceOrAdd(name: "Content-Length", value: String(response.body.count))
            if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
            let head = HTTPResponseHead(
                version: .http1_1,
                status: HTTPResponseStatus(statusCode: response.status),
                headers: headers
            )
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: response.body)))), promise: nil)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                if !keepAlive { channel.close(promise: nil) }
            }
        }
    }
}
