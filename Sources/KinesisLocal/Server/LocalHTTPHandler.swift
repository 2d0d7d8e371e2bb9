import NIOCore
import NIOHTTP1

/// Collects one HTTP/1.1 request at a time, hands it to the backend on the event loop, and writes the answer
/// (after an injected delay, or not at all for a dropped connection). Keep-alive is honoured.
///
/// The body is collected as it arrives, never reserved from `Content-Length` (a client may announce gigabytes);
/// a body beyond ``KinesisLocal/Configuration/maxBodyBytes`` is answered 413 at once and the connection closed.
/// An idle connection (``KinesisLocal/Configuration/idleTimeout``) is closed unless an answer is still due.
/// A connection over ``KinesisLocal/Configuration/maxConnections`` gets `refusal` for its first request and is
/// closed: the client learns why (a 503 it retries) instead of seeing a reset.
final class LocalHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let backend: LocalBackend
    private let maxBodyBytes: Int
    private let refusal: AWSErrorReply?
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    /// A request was refused for its size: what is left of it is dropped, and the connection closes.
    private var refused = false
    /// An answer is due (an injected delay runs, or it is being written): the idle timeout leaves it alone.
    private var answering = false
    /// A SubscribeToShard answer being streamed, and its next poll.
    private var subscription: ShardSubscription?
    private var nextPoll: Scheduled<Void>?
    /// How often a streamed subscription looks for new records.
    static let pollInterval = TimeAmount.milliseconds(200)

    init(backend: LocalBackend, maxBodyBytes: Int, refusal: AWSErrorReply? = nil) {
        self.backend = backend
        self.maxBodyBytes = maxBodyBytes
        self.refusal = refusal
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.clear()
            if let length = head.headers.first(name: "Content-Length").flatMap(Int.init), length > maxBodyBytes {
                refuseTooLarge(context: context)
            }
        case .body(var part):
            if refusal != nil {
                return
            } else if body.readableBytes + part.readableBytes > maxBodyBytes {
                refuseTooLarge(context: context)
            } else {
                body.writeBuffer(&part)
            }
        case .end:
            guard let head else { return }
            self.head = nil
            if let refusal {
                refused = true
                respond(.error(refusal), keepAlive: false, context: context)
                return
            }
            let reply = backend.handle(LocalRequest(method: head.method, uri: head.uri, headers: head.headers, body: body))
            body = ByteBuffer()
            respond(reply, keepAlive: head.isKeepAlive, context: context)
        }
    }

    /// Answers 413 without reading the rest of the body, then closes the connection.
    private func refuseTooLarge(context: ChannelHandlerContext) {
        refused = true
        head = nil
        body = ByteBuffer()
        let error = AWSErrorReply(status: 413, type: "SerializationException", message: "Request body larger than \(maxBodyBytes) bytes.")
        write(.error(error), keepAlive: false, context: context)
    }

    private func respond(_ reply: LocalReply, keepAlive: Bool, context: ChannelHandlerContext) {
        answering = true
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
        if let subscription = reply.subscription {
            stream(reply, subscription, keepAlive: keepAlive, context: context)
            return
        }
        var headers = reply.headers
        headers.replaceOrAdd(name: "Content-Length", value: String(reply.body.readableBytes))
        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: reply.status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(reply.body))), promise: nil)
        let channel = context.channel
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            bound.value.answering = false
            if !keepAlive { channel.close(promise: nil) }
        }
    }

    /// Streams a subscription's events, chunked, polling the backend until the subscription ends or the client
    /// goes away.
    private func stream(_ reply: LocalReply, _ subscription: ShardSubscription, keepAlive: Bool, context: ChannelHandlerContext) {
        var headers = reply.headers
        headers.replaceOrAdd(name: "Transfer-Encoding", value: "chunked")
        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: reply.status, headers: headers))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(reply.body))), promise: nil)
        self.subscription = subscription
        poll(keepAlive: keepAlive, context: context)
    }

    private func poll(keepAlive: Bool, context: ChannelHandlerContext) {
        guard var subscription, context.channel.isActive else { return }
        let step = backend.step(&subscription)
        self.subscription = subscription
        switch step {
        case .wait:
            break
        case .send(let payload):
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(Self.message(payload)))), promise: nil)
        case .finish(let payload):
            self.subscription = nil
            if let payload { context.write(wrapOutboundOut(.body(.byteBuffer(Self.message(payload)))), promise: nil) }
            let channel = context.channel
            let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                bound.value.answering = false
                if !keepAlive { channel.close(promise: nil) }
            }
            return
        }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        nextPoll = context.eventLoop.scheduleTask(in: Self.pollInterval) {
            let (handler, context) = bound.value
            handler.poll(keepAlive: keepAlive, context: context)
        }
    }

    static func message(_ payload: ShardSubscription.EventStreamPayload) -> ByteBuffer {
        switch payload {
        case .event(let type, let json): EventStreamMessage.event(type, payload: json)
        case .exception(let error): EventStreamMessage.exception(error)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        nextPoll?.cancel()
        subscription = nil
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            if !answering { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
