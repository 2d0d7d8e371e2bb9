import NIOCore
import NIOHTTP1

/// Collects one HTTP/1.1 request at a time, hands it to the backend on the event loop, and writes the answer
/// (after an injected delay, or not at all for a dropped connection). Keep-alive is honoured.
final class LocalHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Larger than any valid PutRecords body (10 MiB of data is about 14 MiB of base64).
    static let maxBodyBytes = 64 << 20

    private let backend: LocalBackend
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var tooLarge = false

    init(backend: LocalBackend) {
        self.backend = backend
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.clear()
            tooLarge = false
            if let length = head.headers.first(name: "Content-Length").flatMap(Int.init), length <= Self.maxBodyBytes {
                body.reserveCapacity(length)
            }
        case .body(var part):
            if body.readableBytes + part.readableBytes > Self.maxBodyBytes {
                tooLarge = true
            } else if !tooLarge {
                body.writeBuffer(&part)
            }
        case .end:
            guard let head else { return }
            self.head = nil
            let reply: LocalReply
            if tooLarge {
                reply = .error(AWSErrorReply(status: 413, type: "SerializationException", message: "Request body larger than \(Self.maxBodyBytes) bytes."))
            } else {
                reply = backend.handle(LocalRequest(method: head.method, uri: head.uri, headers: head.headers, body: body))
            }
            body = ByteBuffer()
            respond(reply, keepAlive: head.isKeepAlive, context: context)
        }
    }

    private func respond(_ reply: LocalReply, keepAlive: Bool, context: ChannelHandlerContext) {
        guard let delay = reply.delay else {
            write(reply, keepAlive: keepAlive, context: context)
            return
        }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: delay) {
            let (handler, context) = bound.value
            handler.write(reply, keepAlive: keepAlive, context: context)
        }
    }

    private func write(_ reply: LocalReply, keepAlive: Bool, context: ChannelHandlerContext) {
        if reply.dropConnection {
            context.close(promise: nil)
            return
        }
        var headers = reply.headers
        headers.replaceOrAdd(name: "Content-Length", value: String(reply.body.readableBytes))
        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: reply.status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(reply.body))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { channel.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
