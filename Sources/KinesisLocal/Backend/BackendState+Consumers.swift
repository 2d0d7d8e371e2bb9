import KinesisAPI
import NIOCore

/// Enhanced fan-out consumers: Register/Describe/List/DeregisterStreamConsumer. A consumer is `ACTIVE` as soon as
/// it is registered (AWS takes seconds in `CREATING`; the registration's answer says `CREATING`, as AWS's does).
extension BackendState {
    mutating func registerConsumer(_ p: RequestParameters, in context: RequestContext) throws(AWSErrorReply) -> ByteBuffer {
        let address = try existingStream(nil, arn: try p.required("StreamARN", p.string), in: context)
        let name = try p.required("ConsumerName", p.string)
        guard (1...128).contains(name.count), name.unicodeScalars.allSatisfy(Self.isNameCharacter) else {
            throw .validation("1 validation error detected: Value '\(name.prefix(300))' at 'consumerName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
        }
        let tags = try p.stringMap("Tags") ?? [:]
        try Self.validateTags(tags, existing: [:], of: "consumer \(name)", account: account)
        let (limit, account) = (accountLimits.consumersPerStream, self.account)
        let consumer = try withStream(address) { stream throws(AWSErrorReply) in
            guard !stream.consumers.contains(where: { $0.name == name }) else {
                throw .resourceInUse("Consumer \(name) under stream \(address.name) already exists for account \(account).")
            }
            guard stream.consumers.count < limit else {
                throw AWSErrorReply(
                    status: 400,
                    type: "LimitExceededException",
                    message: "Stream \(address.name) under account \(account) already has \(stream.consumers.count) registered consumers, the limit."
                )
            }
            var consumer = LocalConsumer(name: name, arn: "\(stream.arn)/consumer/\(name):\(Int(context.now))", createdAt: context.now)
            consumer.attributes.tags = tags
            stream.consumers.append(consumer)
            return consumer
        }
        var writer = JSONObjectWriter()
        writer.field("Consumer") { Self.write(consumer, status: "CREATING", into: &$0) }
        return writer.finish()
    }

    func describeConsumer(_ p: RequestParameters, in context: RequestContext) throws(AWSErrorReply) -> ByteBuffer {
        let (address, index) = try consumer(p, in: context)
        let stream = streams[address]!
        var writer = JSONObjectWriter()
        writer.field("ConsumerDescription") { object in
            Self.write(stream.consumers[index], status: "ACTIVE", into: &object)
            object.field("StreamARN", stream.arn)
        }
        return writer.finish()
    }

    mutating func deregisterConsumer(_ p: RequestParameters, in context: RequestContext) throws(AWSErrorReply) -> ByteBuffer {
        let (address, index) = try consumer(p, in: context)
        try withStream(address) { stream in _ = stream.consumers.remove(at: index) }
        return ByteBuffer(string: "{}")
    }

    /// ListStreamConsumers in registration order, `MaxResults` (1–10000, default 100) at a time.
    func listConsumers(_ p: RequestParameters, in context: RequestContext) throws(AWSErrorReply) -> ByteBuffer {
        let address = try existingStream(nil, arn: try p.required("StreamARN", p.string), in: context)
        let maxResults = try p.int("MaxResults") ?? 100
        guard (1...10_000).contains(maxResults) else {
            throw .validation("1 validation error detected: Value '\(maxResults)' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 10000")
        }
        var offset = 0
        if let text = try p.string("NextToken") {
            guard let token = ConsumerPageToken(token: text), token.region == address.region, token.stream == address.name else {
                throw .invalidArgument("Invalid NextToken.")
            }
            guard context.now - token.issuedAt <= 300 else {
                throw AWSErrorReply(status: 400, type: "ExpiredNextTokenException", message: "The timestamp in NextToken has expired.")
            }
            offset = token.offset
        }
        let consumers = streams[address]!.consumers
        guard (0...consumers.count).contains(offset) else { throw .invalidArgument("Invalid NextToken.") }
        let page = consumers.dropFirst(offset).prefix(maxResults)
        var writer = JSONObjectWriter()
        writer.field("Consumers", objects: page) { consumer, object in Self.write(consumer, status: "ACTIVE", into: &object) }
        if offset + page.count < consumers.count {
            let next = ConsumerPageToken(region: address.region, stream: address.name, offset: offset + page.count, issuedAt: context.now)
            writer.field("NextToken", next.token)
        }
        return writer.finish()
    }

    /// The consumer a request names by `ConsumerARN`, or by `StreamARN` and `ConsumerName`.
    func consumer(_ p: RequestParameters, in context: RequestContext) throws(AWSErrorReply) -> (StreamAddress, Int) {
        if let arn = try p.string("ConsumerARN") {
            guard case .consumer(let address, let index) = try resource(arn, member: "ConsumerARN", in: context) else {
                throw .invalidArgument("ConsumerARN \(arn) names a stream, not a consumer.")
            }
            return (address, index)
        }
        guard let streamARN = try p.string("StreamARN"), let name = try p.string("ConsumerName") else {
            throw .invalidArgument("Either ConsumerARN or both StreamARN and ConsumerName must be provided.")
        }
        let address = try existingStream(nil, arn: streamARN, in: context)
        guard let index = streams[address]!.consumers.firstIndex(where: { $0.name == name }) else {
            throw consumerNotFound(name, of: address)
        }
        return (address, index)
    }

    func consumerNotFound(_ name: String, of address: StreamAddress) -> AWSErrorReply {
        AWSErrorReply(
            status: 400,
            type: "ResourceNotFoundException",
            message: "Consumer \(name) under stream \(address.name) under account \(account) not found."
        )
    }

    static func write(_ consumer: LocalConsumer, status: String, into object: inout JSONObjectWriter) {
        object.field("ConsumerName", consumer.name)
        object.field("ConsumerARN", consumer.arn)
        object.field("ConsumerStatus", status)
        object.field("ConsumerCreationTimestamp", epochSeconds: consumer.createdAt)
    }

    static func isNameCharacter(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "_.-".unicodeScalars.contains(scalar))
    }
}

/// The state of a ListStreamConsumers listing, carried in `NextToken`.
struct ConsumerPageToken: OpaqueToken {
    var region: String
    var stream: String
    var offset: Int
    var issuedAt: Double
}
