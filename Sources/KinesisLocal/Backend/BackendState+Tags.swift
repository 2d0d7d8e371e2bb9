import KinesisAPI
import NIOCore

/// Tags of streams and consumers: the stream operations (AddTagsToStream, RemoveTagsFromStream,
/// ListTagsForStream) and the resource ones (TagResource, UntagResource, ListTagsForResource), which take a stream's
/// or a consumer's ARN. Also where a resource ARN is resolved, for the resource policies too.
extension BackendState {
    /// A stream or one of its consumers, found by its ARN.
    enum Resource {
        case stream(StreamAddress)
        case consumer(StreamAddress, index: Int)
    }

    /// At most 50 tags per resource; a key has 1–128 characters, a value 0–256; `aws:` keys are AWS's own.
    static let maxTags = 50

    /// The resource `member` (`ResourceARN`, `ConsumerARN`) names; it must exist.
    func resource(_ text: String, member: String, in context: RequestContext) throws(AWSErrorReply) -> Resource {
        let parsed = try parseARN(text, member: member, in: context)
        let address = StreamAddress(region: parsed.region, name: parsed.streamName)
        guard let stream = streams[address] else { throw notFound(address) }
        switch parsed.resource {
        case .stream:
            return .stream(address)
        case .consumer(_, let name, _):
            guard let index = stream.consumers.firstIndex(where: { $0.arn == text }) else {
                throw consumerNotFound(name, of: address)
            }
            return .consumer(address, index: index)
        }
    }

    /// Runs `body` on the tags and policy of `resource`; `label` names it in messages.
    mutating func withAttributes<Result>(
        of resource: Resource,
        _ body: (inout ResourceAttributes, _ label: String) throws(AWSErrorReply) -> Result
    ) throws(AWSErrorReply) -> Result {
        switch resource {
        case .stream(let address):
            return try withStream(address) { stream throws(AWSErrorReply) in try body(&stream.attributes, "stream \(address.name)") }
        case .consumer(let address, let index):
            return try withStream(address) { stream throws(AWSErrorReply) in
                try body(&stream.consumers[index].attributes, "consumer \(stream.consumers[index].name) of stream \(address.name)")
            }
        }
    }

    static func validateTags(_ tags: [String: String], existing: [String: String], of label: String, account: String) throws(AWSErrorReply) {
        for (key, value) in tags {
            try Self.validateTagKey(key)
            guard value.count <= 256 else {
                throw .validation("1 validation error detected: Value '\(value.prefix(300))' at 'tags.\(key).member.value' failed to satisfy constraint: Member must have length less than or equal to 256")
            }
            guard value.unicodeScalars.allSatisfy(Self.isTagCharacter) else {
                throw .invalidArgument("Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @.")
            }
        }
        let total = existing.merging(tags) { _, new in new }.count
        guard total <= Self.maxTags else {
            throw AWSErrorReply(
                status: 400,
                type: "LimitExceededException",
                message: "Failed to add tags to \(label) under account \(account) because a given resource cannot have more than \(Self.maxTags) tags associated with it (it would have \(total))."
            )
        }
    }

    static func validateTagKey(_ key: String) throws(AWSErrorReply) {
        guard (1...128).contains(key.count) else {
            throw .validation("1 validation error detected: Value '\(key.prefix(300))' at 'tagKeys' failed to satisfy constraint: Member must have length between 1 and 128")
        }
        guard key.unicodeScalars.allSatisfy(isTagCharacter) else {
            throw .invalidArgument("Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @.")
        }
        guard !key.lowercased().hasPrefix("aws:") else {
            throw .invalidArgument("Tag key \(key) uses the prefix aws:, which is reserved for AWS.")
        }
    }

    static func isTagCharacter(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isAlphabetic || scalar.properties.numericType != nil || scalar.properties.isWhitespace
            || "_./=+-%@:".unicodeScalars.contains(scalar)
    }

    mutating func addTags(_ tags: [String: String], to resource: Resource) throws(AWSErrorReply) {
        let account = self.account
        try withAttributes(of: resource) { attributes, label throws(AWSErrorReply) in
            try Self.validateTags(tags, existing: attributes.tags, of: label, account: account)
            attributes.tags.merge(tags) { _, new in new }
        }
    }

    mutating func removeTags(_ keys: [String], from resource: Resource) throws(AWSErrorReply) {
        guard (1...50).contains(keys.count) else {
            throw .validation("1 validation error detected: Value at 'tagKeys' failed to satisfy constraint: Member must have length between 1 and 50")
        }
        for key in keys { try Self.validateTagKey(key) }
        try withAttributes(of: resource) { attributes, _ in
            for key in keys { attributes.tags[key] = nil }
        }
    }

    static func checkTagCount(_ tags: [String: String]) throws(AWSErrorReply) {
        guard (1...200).contains(tags.count) else {
            throw .validation("1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length between 1 and 200")
        }
    }

    mutating func addTagsToStream(_ p: RequestParameters, in context: RequestContext) throws(AWSErrorReply) -> ByteBuffer {
        let address = try existingStream(try p.string("StreamName"), arn: try p.string("StreamARN"), in: context)
        let tags = try p.required("Tags", p.stringMap)
        try Self.checkTagCount(tags)
        try addTags(tags, to: .stream(address))
        return ByteBuffer(string: "{}")
    }

    mutating func removeTagsFromStream(_ p: RequestParameters, in context: RequestContext) throws(AWSErrorReply) -> ByteBuffer {
        let address = try existingStream(try p.string("StreamName"), arn: try p.string("StreamARN"), in: context)
        try removeTags(try p.required("TagKeys", p.strings), from: .stream(address))
        return ByteBuffer(string: "{}")
    }

    /// ListTagsForStream: by key, `Limit` (1–50, default 50) at a time after `ExclusiveStartTagKey`.
    func listTagsForStream(_ p: RequestParameters, in context: RequestContext) throws(AWSErrorReply) -> ByteBuffer {
        let address = try existingStream(try p.string("StreamName"), arn: try p.string("StreamARN"), in: context)
        let limit = try p.int("Limit") ?? 50
        guard (1...50).contains(limit) else {
            throw .validation("1 validation error detected: Value '\(limit)' at 'limit' failed to satisfy constraint: Member must have value between 1 and 50")
        }
        let start = try p.string("ExclusiveStartTagKey")
        let tags = streams[address]!.attributes.tags
        let keys = tags.keys.filter { start == nil || $0 > start! }.sorted()
        var writer = JSONObjectWriter()
        Self.writeTags(keys.prefix(limit), of: tags, into: &writer)
        writer.field("HasMoreTags", keys.count > limit)
        return writer.finish()
    }

    mutating func tagResource(_ p: RequestParameters, in context: RequestContext) throws(AWSErrorReply) -> ByteBuffer {
        let resource = try resource(try p.required("ResourceARN", p.string), member: "ResourceARN", in: context)
        let tags = try p.required("Tags", p.stringMap)
        try Self.checkTagCount(tags)
        try addTags(tags, to: resource)
        return ByteBuffer(string: "{}")
    }

    mutating func untagResource(_ p: RequestParameters, in context: RequestContext) throws(AWSErrorReply) -> ByteBuffer {
        let resource = try resource(try p.required("ResourceARN", p.string), member: "ResourceARN", in: context)
        try removeTags(try p.required("TagKeys", p.strings), from: resource)
        return ByteBuffer(string: "{}")
    }

    mutating func listTagsForResource(_ p: RequestParameters, in context: RequestContext) throws(AWSErrorReply) -> ByteBuffer {
        let resource = try resource(try p.required("ResourceARN", p.string), member: "ResourceARN", in: context)
        let tags = try withAttributes(of: resource) { attributes, _ in attributes.tags }
        var writer = JSONObjectWriter()
        Self.writeTags(tags.keys.sorted(), of: tags, into: &writer)
        return writer.finish()
    }

    static func writeTags(_ keys: some Sequence<String>, of tags: [String: String], into writer: inout JSONObjectWriter) {
        writer.field("Tags", objects: keys) { key, tag in
            tag.field("Key", key)
            tag.field("Value", tags[key])
        }
    }
}
