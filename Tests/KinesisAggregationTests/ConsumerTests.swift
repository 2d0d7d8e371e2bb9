import KinesisAggregation
import Testing

/// The KCL's read of a shard's records: `hashKey(of:)` and `consume(_:shardHashRange:)`.
@Suite("KinesisAggregation consumer view")
struct ConsumerTests {
    typealias UserRecord = KinesisAggregation.UserRecord

    @Test(
        "hashKey(of:) is the MD5 of the UTF-8 partition key, big-endian",
        arguments: [
            // MD5("abc") = 900150983cd24fb0d6963f7d28e17f72 (RFC 1321); MD5("a") = 0cc175b9c0f1b6a831c399e269772661.
            ("abc", UInt128(0x9001_5098_3cd2_4fb0_d696_3f7d_28e1_7f72)),
            ("a", UInt128(0x0cc1_75b9_c0f1_b6a8_31c3_99e2_6977_2661)),
            // The decimals KinesisAPI's HashKey tests hold for these keys.
            ("pk-1", UInt128("273922656776327812788301823748127981641")!),
            ("ü-ключ-🙂", UInt128("215722724560976093341561986980418293505")!),
        ]
    )
    func md5(key: String, hash: UInt128) {
        #expect(KinesisAggregation.hashKey(of: UserRecord(partitionKey: key, data: [])) == hash)
    }

    @Test("an explicit hash key routes instead of the partition key; one that is not a hash key gives nil")
    func explicitHashKey() {
        func hash(_ explicit: String) -> UInt128? {
            KinesisAggregation.hashKey(of: UserRecord(partitionKey: "abc", explicitHashKey: explicit, data: [1]))
        }
        #expect(hash("0") == 0)
        #expect(hash("12345") == 12345)
        #expect(hash("340282366920938463463374607431768211455") == .max)
        #expect(hash("340282366920938463463374607431768211456") == nil)  // 2^128
        #expect(hash("12a") == nil)
        #expect(hash("") == nil)
        #expect(hash("-1") == nil)
    }

    static let range: ClosedRange<UInt128> = 1000...2000

    static func member(_ hash: UInt128, _ index: Int) -> UserRecord {
        UserRecord(partitionKey: "pk-\(index)", explicitHashKey: String(hash), data: Array("record \(index)".utf8))
    }

    @Test("records all inside the shard's range (ends included) are handed out in order")
    func kept() {
        let records = [Self.member(1000, 0), Self.member(1500, 1), Self.member(2000, 2), Self.member(1000, 3)]
        #expect(KinesisAggregation.consume(KinesisAggregation.aggregate(records), shardHashRange: Self.range) == .aggregate(records))
        // Without explicit hash keys, by the MD5 of the keys.
        let byKey = [UserRecord(partitionKey: "abc", data: [1]), UserRecord(partitionKey: "a", data: [2])]
        let hashes = byKey.compactMap(KinesisAggregation.hashKey(of:))
        let covering = hashes.min()!...hashes.max()!
        #expect(KinesisAggregation.consume(KinesisAggregation.aggregate(byKey), shardHashRange: covering) == .aggregate(byKey))
        #expect(KinesisAggregation.consume(KinesisAggregation.aggregate(byKey), shardHashRange: covering.lowerBound...(covering.upperBound - 1)) == .dropped(byKey))
    }

    @Test("one record outside the range (by one), or with a broken explicit hash key, drops the aggregate whole", arguments: [0, 1, 3])
    func dropped(position: Int) {
        for outside in [UInt128(999), 2001, .max, 0] {
            var records = (0..<4).map { Self.member(1000 + UInt128($0) * 300, $0) }
            records[position] = Self.member(outside, position)
            #expect(KinesisAggregation.consume(KinesisAggregation.aggregate(records), shardHashRange: Self.range) == .dropped(records))
        }
        var broken = (0..<4).map { Self.member(1500, $0) }
        broken[position].explicitHashKey = "not a number"
        #expect(KinesisAggregation.consume(KinesisAggregation.aggregate(broken), shardHashRange: Self.range) == .dropped(broken))
    }

    @Test("plain records, whatever their content, are plain")
    func plain() {
        #expect(KinesisAggregation.consume(Array("hello".utf8), shardHashRange: Self.range) == .plain)
        #expect(KinesisAggregation.consume([], shardHashRange: Self.range) == .plain)
        var corrupted = KinesisAggregation.aggregate([Self.member(5, 0)])  // outside, but not an aggregate once corrupted
        corrupted[corrupted.count - 1] ^= 1
        #expect(KinesisAggregation.consume(corrupted, shardHashRange: Self.range) == .plain)
    }
}
