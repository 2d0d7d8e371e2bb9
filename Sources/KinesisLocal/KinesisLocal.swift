import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Synchronization

/// An embedded Kinesis-compatible server on loopback, for development, tests and benchmarks.
///
/// It serves the Kinesis API over JSON 1.1 and CBOR, on HTTP or HTTPS (``Configuration/tls``): streams per region,
/// shards and their lineage, MD5 routing over inclusive ranges, read-back and SubscribeToShard, tags, consumers and
/// settings; it validates like AWS, enforces per-shard write limits and the account's quotas, and injects faults
/// on demand.
/// boto3, the AWS CLI and ``KinesisAPI`` clients work against it unmodified.
///
/// ```swift
/// let server = try await KinesisLocal.start(.init(streams: [.init(name: "events", shardCount: 4)]))
/// // point a client at server.endpoint …
/// try await server.stop()
/// ```
///
/// As a `Service`, ``run()`` keeps it up until graceful shutdown or cancellation, then stops it.
public final class KinesisLocal: Sendable {
    /// The port the server listens on.
    public let port: Int
    /// The address it is bound to.
    public let host: String
    /// The token `/_admin/` requests must carry as `Authorization: Bearer TOKEN`: the configured
    /// ``Configuration/adminToken``, or one drawn at random at start.
    public var adminToken: String { backend.adminAccess.token }
    let backend: LocalBackend
    private let channel: any Channel
    private let group: MultiThreadedEventLoopGroup
    private let stopped = Mutex(false)

    /// The endpoint URL to give clients, `http://127.0.0.1:PORT` (`https://` with ``Configuration/tls``).
    public var endpoint: String { "\(tls == nil ? "http" : "https")://\(host.contains(":") ? "[\(host)]" : host):\(port)" }
    /// The certificate served, when HTTPS.
    public let tls: Configuration.TLS?

    private init(host: String, port: Int, tls: Configuration.TLS?, backend: LocalBackend, channel: any Channel, group: MultiThreadedEventLoopGroup) {
        self.host = host
        self.tls = tls
        self.port = port
        self.backend = backend
        self.channel = channel
        self.group = group
    }

    /// Binds and starts serving; returns once the port is open.
    public static func start(
        _ configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "KinesisLocal", factory: { _ in SwiftLogNoOpLogHandler() })
    ) async throws -> KinesisLocal {
        let backend = try LocalBackend(configuration: configuration, logger: logger)
        let tlsContext = try configuration.tls?.makeContext()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.threads)
        let connections = ConnectionLimiter(limit: configuration.maxConnections)
        let idleTimeout = configuration.idleTimeout > .zero ? TimeAmount(configuration.idleTimeout) : nil
        let maxBodyBytes = configuration.maxBodyBytes
        do {
            let channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let admitted = connections.acquire()
                        if admitted { channel.closeFuture.whenComplete { _ in connections.release() } }
                        if let tlsContext {
                            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tlsContext))
                        }
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        // A connection over the cap is answered once and gets a second to say what it wants.
                        if let timeout = admitted ? idleTimeout : TimeAmount.seconds(1) {
                            try channel.pipeline.syncOperations.addHandler(IdleStateHandler(allTimeout: timeout))
                        }
                        try channel.pipeline.syncOperations.addHandler(
                            LocalHTTPHandler(backend: backend, maxBodyBytes: maxBodyBytes, refusal: admitted ? nil : connections.refusal)
                        )
                    }
                }
                .bind(host: configuration.host, port: configuration.port)
                .get()
            let port = channel.localAddress?.port ?? configuration.port
            logger.info("KinesisLocal listening", metadata: ["kinesis.local.endpoint": "\(tlsContext == nil ? "http" : "https")://\(configuration.host):\(port)"])
            return KinesisLocal(host: configuration.host, port: port, tls: configuration.tls, backend: backend, channel: channel, group: group)
        } catch {
            try? await group.shutdownGracefully()
            throw KinesisLocalError(message: "cannot listen on \(configuration.host):\(configuration.port): \(error)")
        }
    }

    /// Stops listening and closes every connection. Safe to call more than once.
    public func stop() async throws {
        let alreadyStopped = stopped.withLock { stopped in
            defer { stopped = true }
            return stopped
        }
        if alreadyStopped { return }
        try? await channel.close()
        try await group.shutdownGracefully()
    }

    /// The faults in force.
    public var faults: Faults {
        backend.state.withLock { $0.faults }
    }

    /// Replaces the faults and reseeds the generator; the per-key request counts behind
    /// ``Faults/expiredTokenAfterRequests`` restart only when that limit changes.
    public func setFaults(_ faults: Faults) {
        backend.state.withLock { $0.replaceFaults(faults) }
    }

    /// Reshards a stream now as UpdateShardCount's uniform scaling does (splits and merges, to `shardCount` even
    /// shards), without the API's bounds. `region` defaults to ``Configuration/region``.
    public func reshard(stream: String, shardCount: Int, region: String? = nil) throws {
        try backend.state.withLock { state throws(AWSErrorReply) in
            let address = StreamAddress(region: region ?? state.defaultRegion, name: stream)
            _ = try state.updateShardCount(stream: address, target: shardCount, now: backend.clock.now())
        }
    }

    /// Creates a stream now, in `region` (default ``Configuration/region``).
    public func createStream(_ spec: Configuration.StreamSpec, region: String? = nil) throws {
        try backend.state.withLock { state throws(KinesisLocalError) in
            try state.create(spec, in: region, now: backend.clock.now())
        }
    }

    /// Deletes a stream now, with its records; writes to it fail with `ResourceNotFoundException` from then on.
    public func deleteStream(_ name: String, region: String? = nil) {
        backend.state.withLock { state in
            state.deleteStream(StreamAddress(region: region ?? state.defaultRegion, name: name))
        }
    }

    /// Counters of accepted and throttled records per stream and shard.
    public func stats() -> Stats {
        backend.state.withLock { $0.stats }
    }
}

extension KinesisLocal: Service {
    /// Serves until graceful shutdown or cancellation, then stops.
    public func run() async throws {
        let channel = self.channel
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                // Returns when the listening channel closes: graceful shutdown, cancellation, or stop().
                try? await channel.closeFuture.get()
            } onGracefulShutdown: {
                channel.close(promise: nil)
            }
        } onCancel: {
            channel.close(promise: nil)
        }
        try await stop()
    }
}

extension KinesisLocal {
    /// Runs one Kinesis request straight through the backend, without HTTP: for measuring the server's own cost.
    package func process(target: String, body: ByteBuffer) -> (status: Int, body: ByteBuffer) {
        var headers = HTTPHeaders()
        headers.add(name: "X-Amz-Target", value: target)
        headers.add(name: "Content-Type", value: "application/x-amz-json-1.1")
        headers.add(
            name: "Authorization",
            value: "AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/\(backend.state.withLock { $0.defaultRegion })/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=0"
        )
        let reply = backend.handle(LocalRequest(method: .POST, uri: "/", headers: headers, body: body))
        return (Int(reply.status.code), reply.body)
    }
}

extension KinesisLocal {
    /// The kernel thread ids (Linux TIDs) of the server's event loop threads, one per thread, so a benchmark that
    /// runs the server in process can read the server's own CPU time from `/proc/self/task/TID/stat` and tell it
    /// from the rest of the process. Empty where `/proc` is missing (not Linux).
    package func eventLoopThreadIDs() async throws -> [Int32] {
        var ids: [Int32] = []
        for loop in group.makeIterator() {
            if let id = try await loop.submit({ Self.currentKernelThreadID() }).get() { ids.append(id) }
        }
        return ids
    }

    /// The calling thread's kernel id (`gettid()`), read from the `/proc/thread-self` link (`PID/task/TID`):
    /// Swift cannot call the variadic `syscall(SYS_gettid)`, and Glibc's module does not export `gettid`.
    private static func currentKernelThreadID() -> Int32? {
        var buffer = [CChar](repeating: 0, count: 64)
        let count = readlink("/proc/thread-self", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        let link = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return link.split(separator: "/").last.flatMap { Int32($0) }
    }
}
