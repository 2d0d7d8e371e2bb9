import Crypto

/// The KPL aggregated record format: many user records in one Kinesis record.
///
/// Layout: magic `F3 89 9A C2`, a protobuf `AggregatedRecord` (partition key table, explicit hash key table,
/// records), then the MD5 of the protobuf bytes. Written and read by hand: no protobuf dependency. Byte-exact with
/// the KPL and `aws-kinesis-agg`.
public enum KinesisAggregation {
    /// The four bytes every aggregate starts with.
    public static let magic: [UInt8] = [0xF3, 0x89, 0x9A, 0xC2]
    /// Magic plus MD5 trailer: what an aggregate costs beyond its protobuf.
    public static let overhead = 20

    /// One user record inside an aggregate.
    public struct UserRecord: Sendable, Hashable {
        /// The user record's own partition key (kept in the aggregate's key table).
        public var partitionKey: String
        /// Its explicit hash key, if it had one.
        public var explicitHashKey: String?
        /// Its payload.
        public var data: [UInt8]

        /// A user record.
        public init(partitionKey: String, explicitHashKey: String? = nil, data: [UInt8]) {
            self.partitionKey = partitionKey
            self.explicitHashKey = explicitHashKey
            self.data = data
        }
    }

    /// The aggregate of `records`, in order. Key tables are de-duplicated in insertion order; an explicit hash
    /// key table entry exists only for records that have one.
    public static func aggregate(_ records: [UserRecord]) -> [UInt8] {
        var keys = IndexTable()
        var hashKeys = IndexTable()
        var body: [UInt8] = []
        var recordMessages: [[UInt8]] = []
        recordMessages.reserveCapacity(records.count)
        for record in records {
            var message: [UInt8] = []
            Protobuf.appendVarintField(1, UInt64(keys.index(of: record.partitionKey)), to: &message)
            if let explicit = record.explicitHashKey {
                Protobuf.appendVarintField(2, UInt64(hashKeys.index(of: explicit)), to: &message)
            }
            Protobuf.appendBytesField(3, record.data, to: &message)
            recordMessages.append(message)
        }
        for key in keys.values { Protobuf.appendBytesField(1, Array(key.utf8), to: &body) }
        for key in hashKeys.values { Protobuf.appendBytesField(2, Array(key.utf8), to: &body) }
        for message in recordMessages { Protobuf.appendBytesField(3, message, to: &body) }
        return magic + body + Array(Insecure.MD5.hash(data: body))
    }

    /// The user records in `data` if it is an aggregate (magic, more than 16 bytes after it, a matching MD5, a
    /// protobuf that parses with valid table indices), else `nil`: then `data` is a plain record, as the KCL reads it.
    public static func deaggregate(_ data: [UInt8]) -> [UserRecord]? {
        guard data.count > magic.count + 16, Array(data.prefix(4)) == magic else { return nil }
        let body = Array(data[4..<(data.count - 16)])
        guard Array(Insecure.MD5.hash(data: body)) == Array(data.suffix(16)) else { return nil }
        var keys: [String] = []
        var hashKeys: [String] = []
        var messages: [[UInt8]] = []
        var reader = Protobuf.Reader(body)
        while !reader.isAtEnd {
            guard let (field, wireType) = reader.readTag() else { return nil }
            switch (field, wireType) {
            case (1, 2): guard let bytes = reader.readBytes() else { return nil }; keys.append(String(decoding: bytes, as: UTF8.self))
            case (2, 2): guard let bytes = reader.readBytes() else { return nil }; hashKeys.append(String(decoding: bytes, as: UTF8.self))
            case (3, 2): guard let bytes = reader.readBytes() else { return nil }; messages.append(bytes)
            default: guard reader.skip(wireType: wireType) else { return nil }
            }
        }
        var records: [UserRecord] = []
        records.reserveCapacity(messages.count)
        for message in messages {
            var reader = Protobuf.Reader(message)
            var keyIndex: UInt64?
            var hashKeyIndex: UInt64?
            var payload: [UInt8]?
            while !reader.isAtEnd {
                guard let (field, wireType) = reader.readTag() else { return nil }
                switch (field, wireType) {
                case (1, 0): keyIndex = reader.readVarint(); if keyIndex == nil { return nil }
                case (2, 0): hashKeyIndex = reader.readVarint(); if hashKeyIndex == nil { return nil }
                case (3, 2): payload = reader.readBytes(); if payload == nil { return nil }
                default: guard reader.skip(wireType: wireType) else { return nil }
                }
            }
            guard let keyIndex, keyIndex < keys.count, let payload else { return nil }
            var explicit: String?
            if let hashKeyIndex {
                guard hashKeyIndex < hashKeys.count else { return nil }
                explicit = hashKeys[Int(hashKeyIndex)]
            }
            records.append(UserRecord(partitionKey: keys[Int(keyIndex)], explicitHashKey: explicit, data: payload))
        }
        return records
    }

    /// The size `aggregate` would produce, tracked record by record without building it; for filling aggregates up
    /// to a size cap.
    public struct SizeEstimator: Sendable {
        private var keys: [String: Int] = [:]
        private var hashKeys: [String: Int] = [:]
        /// The aggregate's size so far, magic and MD5 included.
        public private(set) var size = KinesisAggregation.overhead
        /// User records added.
        public private(set) var count = 0

        /// An estimator for an empty aggregate.
        public init() {}

        /// The size after adding `record` (without adding it).
        public func size(adding record: UserRecord) -> Int {
            size + increment(for: record)
        }

        /// Adds `record`.
        public mutating func add(_ record: UserRecord) {
            size += increment(for: record)
            count += 1
            if keys[record.partitionKey] == nil { keys[record.partitionKey] = keys.count }
            if let explicit = record.explicitHashKey, hashKeys[explicit] == nil { hashKeys[explicit] = hashKeys.count }
        }

        private func increment(for record: UserRecord) -> Int {
            var bytes = 0
            let keyIndex = keys[record.partitionKey] ?? keys.count
            if keys[record.partitionKey] == nil { bytes += Protobuf.bytesFieldSize(record.partitionKey.utf8.count) }
            var message = 1 + Protobuf.varintSize(UInt64(keyIndex))
            if let explicit = record.explicitHashKey {
                let hashKeyIndex = hashKeys[explicit] ?? hashKeys.count
                if hashKeys[explicit] == nil { bytes += Protobuf.bytesFieldSize(explicit.utf8.count) }
                message += 1 + Protobuf.varintSize(UInt64(hashKeyIndex))
            }
            message += Protobuf.bytesFieldSize(record.data.count)
            return bytes + Protobuf.bytesFieldSize(message)
        }
    }
}

/// Keys in first-seen order with their indices.
struct IndexTable {
    private(set) var values: [String] = []
    private var indices: [String: Int] = [:]

    mutating func index(of value: String) -> Int {
        if let index = indices[value] { return index }
        indices[value] = values.count
        values.append(value)
        return values.count - 1
    }
}
