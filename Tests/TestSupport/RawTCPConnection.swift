import NIOCore
import NIOPosix
import Synchronization

/// A plain TCP connection, for tests that must speak below an HTTP client: announce a body and never send it,
/// hold a connection open, see when the server closes it.
public final class RawTCPConnection: Sendable {
    private let channel: any Channel
    private let collector: Collector

    private init(channel: any Channel, collector: Collector) {
        self.channel = channel
        self.collector = collector
    }

    /// Connects to `host:port`.
    public static func connect(host: String = "127.0.0.1", port: Int) async throws -> RawTCPConnection {
        let collector = Collector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) }
            }
            .connect(host: host, port: port)
            .get()
        return RawTCPConnection(channel: channel, collector: collector)
    }

    /// Sends `text` as it is (write `\r\n` yourself).
    public func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text)).get()
    }

    /// Everything received so far, as UTF-8.
    public var received: String { String(decoding: collector.bytes.withLock { $0 }, as: UTF8.self) }

    /// Whether the peer closed the connection (or it failed).
    public var isClosed: Bool { collector.closed.load(ordering: .acquiring) }

    /// Waits until the connection is closed; `false` when it is still open after `timeout`.
    public func waitForClose(timeout: Duration) async throws -> Bool {
        try await waitFor(timeout: timeout) { isClosed }
    }

    /// Waits until the received text contains `text`; `false` after `timeout`.
    public func waitFor(_ text: String, timeout: Duration) async throws -> Bool {
        try await waitFor(timeout: timeout) { received.contains(text) }
    }

    private func waitFor(timeout: Duration, _ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            if ContinuousClock.now >= deadline { return false }
            try await Task.sleep(for: .milliseconds(5))
        }
        return true
    }

    /// Closes our end.
    public func close() async {
        try? await channel.close()
    }

    final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let bytes = Mutex<[UInt8]>([])
        let closed = Atomic<Bool>(false)

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            let read = buffer.readBytes(length: buffer.readableBytes) ?? []
            bytes.withLock { $0 += read }
        }

        func channelInactive(context: ChannelHandlerContext) {
            closed.store(true, ordering: .releasing)
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
