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
        var estimator = SizeEstimator()
        for record in records { estimator.add(record) }
        return estimator.aggregate { records[$0].data }
    }

    /// Bytes of one `Record` message (without its own tag and length).
    static func messageSize(key: Int, hashKey: Int?, dataCount: Int) -> Int {
        var size = 1 + Protobuf.varintSize(UInt64(key)) + Protobuf.bytesFieldSize(dataCount)
        if let hashKey { size += 1 + Protobuf.varintSize(UInt64(hashKey)) }
        return size
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
    ///
    /// It also remembers the key tables and which keys each record uses, so ``aggregate(data:)`` writes the aggregate
    /// it sized without looking any key up again.
    public struct SizeEstimator: Sendable {
        private var keys: [String: Int] = Dictionary(minimumCapacity: 256)
        private var hashKeys: [String: Int] = [:]
        /// The key tables in index order.
        private var keyTable: [String] = []
        private var hashKeyTable: [String] = []
        /// Each added record's key index and explicit hash key index (-1: none).
        private var recordKeys: [(key: Int32, hashKey: Int32)] = []
        /// The aggregate's size so far, magic and MD5 included.
        public private(set) var size = KinesisAggregation.overhead
        /// User records added.
        public private(set) var count = 0

        /// What adding one record costs: bytes, and which key tables it extends. Computed once, then either
        /// dropped (the record does not fit) or passed to ``add(_:_:)``.
        public struct Increment: Sendable {
            /// Bytes the aggregate grows by.
            public let bytes: Int
            fileprivate let newKey: Bool
            fileprivate let newHashKey: Bool
            fileprivate let keyIndex: Int
            fileprivate let hashKeyIndex: Int?
        }

        /// An estimator for an empty aggregate.
        public init() {}

        /// What adding `record` would cost.
        public func increment(for record: UserRecord) -> Increment {
            increment(partitionKey: record.partitionKey, explicitHashKey: record.explicitHashKey, dataCount: record.data.count)
        }

        /// What adding a record with these keys and `dataCount` bytes of data would cost (no record needed).
        public func increment(partitionKey: String, explicitHashKey: String?, dataCount: Int) -> Increment {
            var bytes = 0
            let existingKey = keys[partitionKey]
            if existingKey == nil { bytes += Protobuf.bytesFieldSize(partitionKey.utf8.count) }
            var hashKeyIndex: Int?
            var newHashKey = false
            if let explicit = explicitHashKey {
                let existing = hashKeys[explicit]
                newHashKey = existing == nil
                if newHashKey { bytes += Protobuf.bytesFieldSize(explicit.utf8.count) }
                hashKeyIndex = existing ?? hashKeys.count
            }
            let keyIndex = existingKey ?? keys.count
            let message = KinesisAggregation.messageSize(key: keyIndex, hashKey: hashKeyIndex, dataCount: dataCount)
            return Increment(
                bytes: bytes + Protobuf.bytesFieldSize(message),
                newKey: existingKey == nil,
                newHashKey: newHashKey,
                keyIndex: keyIndex,
                hashKeyIndex: hashKeyIndex
            )
        }

        /// The size after adding `record` (without adding it).
        public func size(adding record: UserRecord) -> Int {
            size + increment(for: record).bytes
        }

        /// Adds `record`.
        public mutating func add(_ record: UserRecord) {
            add(record, increment(for: record))
        }

        /// Adds `record` at the cost ``increment(for:)`` just gave for it (no change in between).
        public mutating func add(_ record: UserRecord, _ increment: Increment) {
            add(partitionKey: record.partitionKey, explicitHashKey: record.explicitHashKey, increment)
        }

        /// Adds a record with these keys at the cost ``increment(partitionKey:explicitHashKey:dataCount:)`` just
        /// gave for it.
        public mutating func add(partitionKey: String, explicitHashKey: String?, _ increment: Increment) {
            size += increment.bytes
            count += 1
            if increment.newKey {
                keys[partitionKey] = keys.count
                keyTable.append(partitionKey)
            }
            if increment.newHashKey, let explicit = explicitHashKey {
                hashKeys[explicit] = hashKeys.count
                hashKeyTable.append(explicit)
            }
            recordKeys.append((Int32(increment.keyIndex), increment.hashKeyIndex.map(Int32.init) ?? -1))
        }

        /// The aggregate of the records added, in order, exactly ``size`` bytes; `data(i)` is the payload of the
        /// i-th record added.
        public func aggregate(data: (Int) -> [UInt8]) -> [UInt8] {
            var output: [UInt8] = []
            output.reserveCapacity(size)
            output.append(contentsOf: KinesisAggregation.magic)
            for key in keyTable { Protobuf.appendBytesField(1, key.utf8, to: &output) }
            for key in hashKeyTable { Protobuf.appendBytesField(2, key.utf8, to: &output) }
            for (index, keys) in recordKeys.enumerated() {
                let payload = data(index)
                let hashKey = keys.hashKey >= 0 ? Int(keys.hashKey) : nil
                Protobuf.appendLengthPrefix(
                    3,
                    KinesisAggregation.messageSize(key: Int(keys.key), hashKey: hashKey, dataCount: payload.count),
                    to: &output
                )
                Protobuf.appendVarintField(1, UInt64(keys.key), to: &output)
                if let hashKey { Protobuf.appendVarintField(2, UInt64(hashKey), to: &output) }
                Protobuf.appendBytesField(3, payload, to: &output)
            }
            let magicCount = KinesisAggregation.magic.count
            let digest = output.withUnsafeBytes { Insecure.MD5.hash(data: UnsafeRawBufferPointer(rebasing: $0[magicCount...])) }
            output.append(contentsOf: digest)
            return output
        }
    }
}
