import Backoff
import Foundation
import KinesisAPI
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// A request as the HTTP layer hands it over.
package struct LocalRequest {
    package var method: HTTPMethod
    package var uri: String
    package var headers: HTTPHeaders
    package var body: ByteBuffer

    package init(method: HTTPMethod, uri: String, headers: HTTPHeaders, body: ByteBuffer) {
        self.method = method
        self.uri = uri
        self.headers = headers
        self.body = body
    }
}

/// What the HTTP layer sends back: an answer (after an optional delay), or a dropped connection.
package struct LocalReply {
    package var status: HTTPResponseStatus
    var headers: HTTPHeaders
    package var body: ByteBuffer
    var delay: TimeAmount?
    package var dropConnection = false
    /// A SubscribeToShard answer: the HTTP layer streams its events (``LocalBackend/step(_:)``) after `body`.
    var subscription: ShardSubscription?

    static func json(_ body: ByteBuffer, status: HTTPResponseStatus = .ok, contentType: String = "application/x-amz-json-1.1") -> LocalReply {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "x-amzn-RequestId", value: UUID().uuidString.lowercased())
        headers.add(name: "Date", value: HTTPDate.format(Date()))
        return LocalReply(status: status, headers: headers, body: body)
    }

    /// The start of a SubscribeToShard answer: the event stream's `initial-response`; the events follow.
    static func eventStream(_ subscription: ShardSubscription) -> LocalReply {
        var reply = json(EventStreamMessage.event("initial-response", payload: ByteBuffer(string: "{}")), contentType: "application/vnd.amazon.eventstream")
        reply.subscription = subscription
        return reply
    }

    /// The answer in CBOR: the same members, `Data` as a byte string, timestamps as tag 1 on epoch milliseconds.
    /// An event stream stays JSON (the Java SDK reads SubscribeToShard as JSON), a dropped connection stays dropped.
    func inCBOR() -> LocalReply {
        guard subscription == nil, !dropConnection, let converted = try? CBORTranscoder.cbor(fromJSON: body) else { return self }
        var reply = self
        reply.body = converted
        reply.headers.replaceOrAdd(name: "Content-Type", value: "application/x-amz-cbor-1.1")
        return reply
    }

    static func error(_ error: AWSErrorReply) -> LocalReply {
        var writer = ByteBuffer()
        writer.writeStaticString("{\"__type\":")
        writer.writeJSONString(error.type)
        writer.writeStaticString(",\"message\":")
        writer.writeJSONString(error.message)
        writer.writeStaticString("}")
        var reply = json(writer, status: HTTPResponseStatus(statusCode: error.status))
        reply.headers.add(name: "X-Amzn-ErrorType", value: error.type)
        return reply
    }
}

/// The Kinesis endpoint behind the HTTP layer: checks the signature, injects faults, and runs each operation on
/// ``BackendState`` under one lock. Everything here is synchronous and CPU-only.
package final class LocalBackend: Sendable {
    let state: Mutex<BackendState>
    let verifier: SignatureVerifier
    let adminAccess: AdminAccess
    let clock: BackendClock
    let logger: Logger
    let subscriptionLifetime: Double

    package init(configuration: KinesisLocal.Configuration, logger: Logger) throws {
        var state = BackendState(configuration: configuration)
        let clock = BackendClock()
        for spec in configuration.streams {
            try state.create(spec, now: clock.now())
        }
        self.state = Mutex(state)
        self.clock = clock
        self.verifier = SignatureVerifier(configuration.authentication)
        self.adminAccess = try AdminAccess(token: configuration.adminToken, boundHost: configuration.host)
        self.logger = logger
        self.subscriptionLifetime = configuration.subscriptionLifetime.inSeconds
    }

    static let putOperations: Set<String> = ["PutRecords", "PutRecord"]

    package func handle(_ request: LocalRequest) -> LocalReply {
        if request.uri.hasPrefix("/_admin/") {
            return adminAccess.refusal(request) ?? AdminAPI.handle(request, backend: self)
        }
        // CBOR (the Java SDK's default) is translated at the edge: the operations read and write JSON.
        guard request.headers.first(name: "Content-Type")?.hasPrefix("application/x-amz-cbor") == true else {
            return handleKinesis(request, cbor: false)
        }
        return handleKinesis(request, cbor: true).inCBOR()
    }

    private func handleKinesis(_ request: LocalRequest, cbor: Bool) -> LocalReply {
        // The signature's skew check is against the wall clock, as AWS's; the limits run on the backend's clock.
        let wallNow = Date()
        let now = clock.now()
        do {
            guard request.method == .POST else {
                throw AWSErrorReply(status: 405, type: "UnknownOperationException", message: "Kinesis takes POST /; got \(request.method.rawValue) \(request.uri).")
            }
            guard let target = request.headers.first(name: "X-Amz-Target"), target.hasPrefix("Kinesis_20131202.") else {
                throw AWSErrorReply(status: 400, type: "UnknownOperationException", message: "X-Amz-Target must name a Kinesis_20131202 operation.")
            }
            let operation = String(target.dropFirst("Kinesis_20131202.".count))
            state.withLock { $0.requestCount += 1 }  // refused signatures count too
            let caller = try verifier.verify(headers: request.headers, body: request.body, now: wallNow)
            let body: ByteBuffer
            if cbor {
                do { body = try CBORTranscoder.json(fromCBOR: request.body) } catch {
                    throw AWSErrorReply.serialization("The request body is not valid CBOR: \(error.message)")
                }
            } else {
                body = request.body
            }
            let accessKey = caller.accessKeyID
            let context = RequestContext(region: caller.region, now: now)
            do {
                return try state.withLock { state throws(AWSErrorReply) -> LocalReply in
                    if let limit = state.faults.expiredTokenAfterRequests {
                        let seen = state.requestsPerAccessKey[accessKey, default: 0]
                        state.requestsPerAccessKey[accessKey] = seen + 1
                        if seen >= limit {
                            state.expiredTokenCount += 1
                            throw AWSErrorReply(status: 400, type: "ExpiredTokenException", message: "The security token included in the request is expired")
                        }
                    }
                    var delay: TimeAmount?
                    if Self.putOperations.contains(operation) {
                        delay = state.faults.putDelay
                        if state.random.chance(state.faults.dropConnectionRate) {
                            return LocalReply(status: .ok, headers: [:], body: ByteBuffer(), delay: delay, dropConnection: true)
                        }
                        if state.random.chance(state.faults.requestInternalErrorRate) {
                            throw AWSErrorReply(status: 500, type: "InternalFailure", message: "Internal service failure.")
                        }
                        if state.random.chance(state.faults.requestThrottleRate) {
                            throw AWSErrorReply(status: 400, type: "ProvisionedThroughputExceededException", message: "Rate exceeded for stream under account \(state.account).")
                        }
                        if state.random.chance(state.faults.kmsThrottlingRate) {
                            throw AWSErrorReply(status: 400, type: "KMSThrottlingException", message: "Rate exceeded for KMS key used by the stream.")
                        }
                    }
                    if operation == "SubscribeToShard" {
                        let subscription = try state.subscribeToShard(try RequestParameters(body), in: context, lifetime: subscriptionLifetime)
                        return .eventStream(subscription)
                    }
                    var reply = LocalReply.json(try Self.dispatch(operation, body: body, state: &state, in: context))
                    reply.delay = delay
                    return reply
                }
            } catch {
                // Errors to a put (injected faults, validation) wait out the added latency too.
                var reply = LocalReply.error(error)
                if Self.putOperations.contains(operation) {
                    reply.delay = state.withLock { $0.faults.putDelay }
                }
                return reply
            }
        } catch let error as AWSErrorReply {
            return .error(error)
        } catch {
            return .error(AWSErrorReply(status: 500, type: "InternalFailure", message: "\(error)"))
        }
    }

    /// The next event of a subscription the HTTP layer streams.
    func step(_ subscription: inout ShardSubscription) -> ShardSubscription.Step {
        let now = clock.now()
        return state.withLock { $0.step(&subscription, now: now) }
    }

    static func dispatch(_ operation: String, body: ByteBuffer, state: inout BackendState, in context: RequestContext) throws(AWSErrorReply) -> ByteBuffer {
        // The puts parse their own bodies (the hot path); every other operation reads its members from these.
        switch operation {
        case "PutRecords": return try state.putRecords(body, in: context)
        case "PutRecord": return try state.putRecord(body, in: context)
        default: break
        }
        guard let run = operations[operation] else {
            throw AWSErrorReply(status: 400, type: "UnknownOperationException", message: "KinesisLocal does not implement \(operation).")
        }
        return try run(&state, try RequestParameters(body), context)
    }

    typealias Operation = @Sendable (inout BackendState, RequestParameters, RequestContext) throws(AWSErrorReply) -> ByteBuffer

    /// Every operation but the puts, by `X-Amz-Target` name.
    static let operations: [String: Operation] = [
        "CreateStream": { state, p, context throws(AWSErrorReply) in try state.createStream(p, in: context) },
        "DeleteStream": { state, p, context throws(AWSErrorReply) in try state.deleteStream(p, in: context) },
        "ListStreams": { state, p, context throws(AWSErrorReply) in try state.listStreams(p, in: context) },
        "DescribeStream": { state, p, context throws(AWSErrorReply) in try state.describeStream(p, in: context) },
        "DescribeStreamSummary": { state, p, context throws(AWSErrorReply) in try state.describeStreamSummary(p, in: context) },
        "ListShards": { state, p, context throws(AWSErrorReply) in try state.listShards(p, in: context) },
        "GetShardIterator": { state, p, context throws(AWSErrorReply) in try state.getShardIterator(p, in: context) },
        "GetRecords": { state, p, context throws(AWSErrorReply) in try state.getRecords(p, in: context) },
        "UpdateShardCount": { state, p, context throws(AWSErrorReply) in try state.updateShardCount(p, in: context) },
        "SplitShard": { state, p, context throws(AWSErrorReply) in try state.splitShard(p, in: context) },
        "MergeShards": { state, p, context throws(AWSErrorReply) in try state.mergeShards(p, in: context) },
        "UpdateStreamMode": { state, p, context throws(AWSErrorReply) in try state.updateStreamMode(p, in: context) },
        "IncreaseStreamRetentionPeriod": { state, p, context throws(AWSErrorReply) in try state.increaseRetention(p, in: context) },
        "DecreaseStreamRetentionPeriod": { state, p, context throws(AWSErrorReply) in try state.decreaseRetention(p, in: context) },
        "EnableEnhancedMonitoring": { state, p, context throws(AWSErrorReply) in try state.enableMonitoring(p, in: context) },
        "DisableEnhancedMonitoring": { state, p, context throws(AWSErrorReply) in try state.disableMonitoring(p, in: context) },
        "StartStreamEncryption": { state, p, context throws(AWSErrorReply) in try state.startEncryption(p, in: context) },
        "StopStreamEncryption": { state, p, context throws(AWSErrorReply) in try state.stopEncryption(p, in: context) },
        "UpdateMaxRecordSize": { state, p, context throws(AWSErrorReply) in try state.updateMaxRecordSize(p, in: context) },
        "DescribeLimits": { state, _, context in state.describeLimits(in: context) },
        "AddTagsToStream": { state, p, context throws(AWSErrorReply) in try state.addTagsToStream(p, in: context) },
        "RemoveTagsFromStream": { state, p, context throws(AWSErrorReply) in try state.removeTagsFromStream(p, in: context) },
        "ListTagsForStream": { state, p, context throws(AWSErrorReply) in try state.listTagsForStream(p, in: context) },
        "TagResource": { state, p, context throws(AWSErrorReply) in try state.tagResource(p, in: context) },
        "UntagResource": { state, p, context throws(AWSErrorReply) in try state.untagResource(p, in: context) },
        "ListTagsForResource": { state, p, context throws(AWSErrorReply) in try state.listTagsForResource(p, in: context) },
        "PutResourcePolicy": { state, p, context throws(AWSErrorReply) in try state.putResourcePolicy(p, in: context) },
        "GetResourcePolicy": { state, p, context throws(AWSErrorReply) in try state.getResourcePolicy(p, in: context) },
        "DeleteResourcePolicy": { state, p, context throws(AWSErrorReply) in try state.deleteResourcePolicy(p, in: context) },
        "RegisterStreamConsumer": { state, p, context throws(AWSErrorReply) in try state.registerConsumer(p, in: context) },
        "DescribeStreamConsumer": { state, p, context throws(AWSErrorReply) in try state.describeConsumer(p, in: context) },
        "ListStreamConsumers": { state, p, context throws(AWSErrorReply) in try state.listConsumers(p, in: context) },
        "DeregisterStreamConsumer": { state, p, context throws(AWSErrorReply) in try state.deregisterConsumer(p, in: context) },
    ]
}

extension BackendState {
    /// Creates a configured stream (or one the Swift API asks for), in the default region unless told; the
    /// account's quotas are not applied to it.
    mutating func create(_ spec: KinesisLocal.Configuration.StreamSpec, in region: String? = nil, now: Double) throws(KinesisLocalError) {
        do {
            try createStream(
                StreamAddress(region: region ?? defaultRegion, name: spec.name),
                shardCount: spec.shardCount,
                mode: spec.onDemand ? "ON_DEMAND" : "PROVISIONED",
                maxRecordSizeKiB: spec.maxRecordSizeInKiB,
                enforcingLimits: false,
                now: now
            )
        } catch {
            throw KinesisLocalError(message: "cannot create stream \(spec.name): \(error.message)")
        }
    }
}

/// A KinesisLocal set-up failure (a bad stream spec, a port in use).
public struct KinesisLocalError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public var message: String
    public var description: String { "KinesisLocal: \(message)" }
}
